/**
 * Turns values into bytes and back, as the engine's serdes do (any serde is a codec). Defined
 * here so that `state/` depends on nothing in `engine/`.
 */
export interface Codec<T> {
  serialize(value: T, topic: string): Buffer | null;
  deserialize(data: Buffer | null, topic: string): T;
}
