/**
 * How a windowed table holds back its updates (Kafka Streams' `Suppressed`). Only final results
 * are supported: `untilWindowCloses`, with an unbounded buffer kept in a store.
 */
export interface Suppressed {
  readonly kind: 'until-window-closes';
  /** The buffer store's name; by default the windowed store's name with `-final`. */
  readonly name?: string;
}

export const Suppressed = {
  /**
   * One result per window, sent once the window has closed (stream time past its end plus
   * grace), whatever updates it had before.
   */
  untilWindowCloses(options: { name?: string } = {}): Suppressed {
    return { kind: 'until-window-closes', ...(options.name === undefined ? {} : { name: options.name }) };
  },
} as const;
