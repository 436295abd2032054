import { expect } from 'chai';
import { heldRecordSerde } from '../../engine/processors/held-records.ts';
import { stringifyJson } from '../../engine/serde/stack-safe-json.ts';

describe('held records', () => {
  const serde = heldRecordSerde<string, unknown>();
  const roundTrip = <T>(record: T) => serde.deserialize(serde.serialize(record as never, 't'), 't');

  it('keep Buffers (a byte value, header values) as Buffers through the store', () => {
    const record = { key: 'k', value: Buffer.from([0, 255, 1]), timestamp: 5, headers: [{ correlation_id: Buffer.from('c-1') }, { note: 'text' }], arrivedAt: 7 };
    const back = roundTrip(record);
    expect(Buffer.isBuffer(back.value)).to.equal(true);
    expect((back.value as Buffer).toString('hex')).to.equal('00ff01');
    expect(Buffer.isBuffer(back.headers![0]!.correlation_id)).to.equal(true);
    expect(String(back.headers![0]!.correlation_id)).to.equal('c-1');
    expect(back.headers![1]!.note).to.equal('text');
  });

  it('keep a value nested 20,000 levels deep', () => {
    const deep = JSON.parse('{"a":'.repeat(20_000) + '1' + '}'.repeat(20_000));
    const back = roundTrip({ key: 'k', value: deep, timestamp: 1, arrivedAt: 1 });
    expect(stringifyJson(back.value)).to.equal(stringifyJson(deep));
  });
});
