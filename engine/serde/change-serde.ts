import type { Change } from '../processors/processor.ts';
import { SerdeError } from '../errors.ts';
import type { Serde } from './serde-interface.ts';
import { over, type BindableSerde } from './windowed.ts';

const NEW = 1;
const OLD = 2;

/**
 * A table's change as one record (a re-keyed table aggregation's repartition topic): a flags
 * byte (1: a new value follows, 2: an old value follows), then, when both do, the new value's
 * length (4 bytes, big-endian), the new value and the old; otherwise the one value.
 */
export function changeSerde<V>(inner?: Serde<V>): BindableSerde<Change<V>> {
  return over('change', inner, (values) => ({
    serialize(change, topic) {
      if (change === null || change === undefined) return null;
      const added = change.newValue === null ? null : values.serialize(change.newValue, topic);
      const removed = change.oldValue === null ? null : values.serialize(change.oldValue, topic);
      const flags = (added === null ? 0 : NEW) | (removed === null ? 0 : OLD);
      if (added !== null && removed !== null) {
        const head = Buffer.allocUnsafe(5);
        head.writeUInt8(flags, 0);
        head.writeUInt32BE(added.length, 1);
        return Buffer.concat([head, added, removed]);
      }
      return Buffer.concat([Buffer.of(flags), added ?? removed ?? Buffer.alloc(0)]);
    },
    deserialize(data, topic) {
      if (data === null) return null as unknown as Change<V>;
      const flags = data.length > 0 ? data.readUInt8(0) : -1;
      if (flags < 0 || flags > (NEW | OLD) || (flags === (NEW | OLD) && data.length < 5)) {
        throw new SerdeError('change', topic, `is not a table change written by Sluice (flags ${flags}, ${data.length} bytes)`);
      }
      if (flags === (NEW | OLD)) {
        const length = data.readUInt32BE(1);
        if (5 + length > data.length) throw new SerdeError('change', topic, `is not a table change written by Sluice (a new value of ${length} bytes in ${data.length})`);
        return { newValue: values.deserialize(data.subarray(5, 5 + length), topic), oldValue: values.deserialize(data.subarray(5 + length), topic) };
      }
      const value = flags === 0 ? null : values.deserialize(data.subarray(1), topic);
      return { newValue: flags === NEW ? value : null, oldValue: flags === OLD ? value : null };
    },
  }));
}
