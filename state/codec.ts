/**
 * Turns values into bytes and back, as the engine's serdes do (any serde is a codec). Defined
 * here so that `state/` depends on nothing in `engine/`.
 */
export interface Codec<T> {
  serialize(value: T, topic: string): Buffer | null;
  deserialize(data: Buffer | null, topic: string): T;
  /**
   * A string equal for equal keys and different for different ones, cheaper than the bytes (a
   * windowed key's: its key and window as text), or undefined when there is none; a store's
   * cache then tells keys apart without serializing them on every read.
   */
  identity?(value: T): string | undefined;
}
