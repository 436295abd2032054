import { expect } from 'chai';
import { SerdeError } from '../../engine/errors.ts';
import { Serdes, serde } from '../../engine/serde/serde.ts';

describe('serdes', () => {
  it('round-trips strings, JSON, bytes and numbers, and passes null through', () => {
    const cases: Array<[ReturnType<typeof Serdes.string> | ReturnType<typeof Serdes.json>, unknown]> = [
      [Serdes.string(), 'héllo ✓'],
      [Serdes.json(), { a: [1, 'two', null], b: { c: true } }],
    ];
    for (const [s, value] of cases) expect(s.deserialize(s.serialize(value as never, 't'), 't')).to.deep.equal(value);
    expect(Serdes.bytes().deserialize(Serdes.bytes().serialize(Buffer.from([0, 255]), 't'), 't')).to.deep.equal(Buffer.from([0, 255]));
    expect(Serdes.number().deserialize(Serdes.number().serialize(-12.5, 't'), 't')).to.equal(-12.5);
    for (const s of [Serdes.string(), Serdes.json(), Serdes.bytes(), Serdes.double(), Serdes.int32(), Serdes.int64()]) {
      expect(s.serialize(null as never, 't')).to.equal(null);
      expect(s.deserialize(null, 't')).to.equal(null);
    }
  });

  it('writes numbers as the Java serializers do (big-endian)', () => {
    expect(Serdes.int32().serialize(258, 't')).to.deep.equal(Buffer.from([0, 0, 1, 2]));
    expect(Serdes.int32().deserialize(Buffer.from([0xff, 0xff, 0xff, 0xfe]), 't')).to.equal(-2);
    expect(Serdes.int64().serialize(2 ** 40, 't')).to.deep.equal(Buffer.from([0, 0, 1, 0, 0, 0, 0, 0]));
    expect(Serdes.double().serialize(1, 't')).to.deep.equal(Buffer.from([0x3f, 0xf0, 0, 0, 0, 0, 0, 0]));
  });

  it('rejects bytes it cannot read with a SerdeError naming the serde and topic', () => {
    expect(() => Serdes.json().deserialize(Buffer.from('{nope'), 'orders'))
      .to.throw(SerdeError)
      .with.property('message')
      .that.contains('json serde')
      .and.contains('"orders"');
    expect(() => Serdes.int32().deserialize(Buffer.from([1, 2]), 't')).to.throw(SerdeError, /has 2 bytes/);
    expect(() => Serdes.int64().deserialize(Buffer.from([0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), 't')).to.throw(SerdeError, /safe integers/);
  });

  it('builds custom serdes that pass null through', () => {
    const upper = serde<string>('upper', (v) => Buffer.from(v.toUpperCase()), (b) => b.toString().toLowerCase());
    expect(upper.serialize('abc', 't')).to.deep.equal(Buffer.from('ABC'));
    expect(upper.deserialize(Buffer.from('ABC'), 't')).to.equal('abc');
    expect(upper.serialize(null as never, 't')).to.equal(null);
  });
});
