import { IllegalStateError } from './errors.ts';

export type StateListener<S extends string> = (to: S, from: S) => void;

/**
 * A lifecycle as data: its states, a table of the transitions allowed from each, and the
 * current state. An illegal transition throws, naming the thing and both states. The
 * application, its tasks and the producer's transactions each have one.
 *
 * @example
 * ```ts
 * const door = new StateMachine<'open' | 'shut'>('door', 'shut', { shut: ['open'], open: ['shut'] });
 * door.transition('open');
 * door.is('open'); // true
 * ```
 */
export class StateMachine<S extends string> {
  private current: S;
  private readonly listeners: Array<StateListener<S>> = [];

  constructor(
    /** What moves through the states, for messages: "application", "task 0_1". */
    private readonly what: string,
    initial: S,
    private readonly transitions: Readonly<Record<S, readonly S[]>>,
  ) {
    this.current = initial;
  }

  get state(): S {
    return this.current;
  }

  is(...states: S[]): boolean {
    return states.includes(this.current);
  }

  onChange(listener: StateListener<S>): void {
    this.listeners.push(listener);
  }

  /** Moves to `to`; staying where it is is allowed, anything the table does not list throws {@link IllegalStateError}. */
  transition(to: S): void {
    const from = this.current;
    if (from === to) return;
    if (!this.transitions[from].includes(to)) {
      throw new IllegalStateError(`The ${this.what} in state ${from} cannot move to ${to}.`);
    }
    this.current = to;
    for (const listener of this.listeners) listener(to, from);
  }
}
