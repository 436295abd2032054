// The interface every serde implements, apart from the built-in ones (serde.ts), so that serdes
// in their own files (avro/) implement it without importing serde.ts, which builds them.

/**
 * Turns values into bytes and back. `null` is Kafka's "no value" (a tombstone) and passes
 * through every built-in serde untouched.
 *
 * @example
 * ```ts
 * const point: Serde<{ x: number }> = Serdes.json();
 * point.deserialize(point.serialize({ x: 1 }, 'points'), 'points'); // { x: 1 }
 * ```
 */
export interface Serde<T> {
  /** Shown by `describe` and in error messages. */
  readonly name: string;
  serialize(value: T, topic: string): Buffer | null;
  deserialize(data: Buffer | null, topic: string): T;
  /**
   * Asynchronous set-up for a topic before any record flows (a schema registered or looked up).
   * The engine calls it at start for every topic the serde writes and every store it keeps.
   */
  prepare?(topic: string): Promise<void>;
  /**
   * What must be fetched before `data` can be deserialized (a writer schema), if anything. The
   * engine calls it for each consumed record before processing the batch, and awaits the
   * promises together, so `deserialize` itself never waits.
   */
  prefetch?(data: Buffer | null, topic: string): Promise<void> | undefined;
  /**
   * For a store's keys: a string equal for equal keys and different for different ones, cheaper
   * to make than the bytes, or undefined; the store's cache then tells keys apart without
   * serializing them on each read (the engine's windowed keys have one).
   */
  identity?(value: T): string | undefined;
}
