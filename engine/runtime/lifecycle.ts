import { StateMachine } from '../state-machine.ts';

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

/** The application's state machine: only the transitions in the table are allowed. */
export class Lifecycle extends StateMachine<ApplicationState> {
  constructor() {
    super('application', 'CREATED', TRANSITIONS);
  }
}
