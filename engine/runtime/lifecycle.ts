import { IllegalStateError } from '../errors.ts';

/** An application's states, as Kafka Streams' `KafkaStreams.State`. */
export type ApplicationState =
  | 'CREATED'
  | 'STARTING'
  | 'REBALANCING'
  | 'RUNNING'
  | 'PENDING_SHUTDOWN'
  | 'NOT_RUNNING'
  | 'ERROR';

const TRANSITIONS: Record<ApplicationState, readonly ApplicationState[]> = {
  CREATED: ['STARTING', 'PENDING_SHUTDOWN'],
  STARTING: ['REBALANCING', 'RUNNING', 'PENDING_SHUTDOWN', 'ERROR'],
  REBALANCING: ['RUNNING', 'PENDING_SHUTDOWN', 'ERROR'],
  RUNNING: ['REBALANCING', 'PENDING_SHUTDOWN', 'ERROR'],
  PENDING_SHUTDOWN: ['NOT_RUNNING', 'ERROR'],
  NOT_RUNNING: [],
  ERROR: [],
};

export type StateListener = (to: ApplicationState, from: ApplicationState) => void;

/** The application's state machine: only the transitions in the table are allowed. */
export class Lifecycle {
  private current: ApplicationState = 'CREATED';
  private readonly listeners: StateListener[] = [];

  get state(): ApplicationState {
    return this.current;
  }

  is(...states: ApplicationState[]): boolean {
    return states.includes(this.current);
  }

  onChange(listener: StateListener): void {
    this.listeners.push(listener);
  }

  transition(to: ApplicationState): void {
    const from = this.current;
    if (from === to) return;
    if (!TRANSITIONS[from].includes(to)) {
      throw new IllegalStateError(`An application in state ${from} cannot move to ${to}.`);
    }
    this.current = to;
    for (const listener of this.listeners) listener(to, from);
  }
}
