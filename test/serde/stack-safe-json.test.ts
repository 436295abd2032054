import { expect } from 'chai';
import { stringifyDeep, stringifyJson } from '../../engine/serde/stack-safe-json.ts';

/** Nests `inner` `depth` levels deep, alternating objects and arrays. */
function nested(depth: number, inner: unknown = 1): unknown {
  let value = inner;
  for (let i = 0; i < depth; i++) value = i % 2 === 0 ? { a: value, n: i } : [value, i];
  return value;
}

describe('stack-safe JSON', () => {
  it('writes what JSON.stringify writes, wherever JSON.stringify can', () => {
    const date = new Date(0);
    const samples: unknown[] = [
      null, true, 0, -0, 1.5e300, NaN, -Infinity, 'text "quoted" \n é \u2028', [], {},
      [undefined, () => 1, Symbol('s'), null, , 3],
      { a: undefined, b: () => 1, c: Symbol('s'), d: [1, { e: 'f' }], 'g h': date },
      { toJSON: (key: string) => `at ${key}` }, [new Number(2), new String('s'), new Boolean(false)],
      Buffer.from('hi'), new Map([[1, 2]]), nested(50), undefined, () => 1,
    ];
    for (const sample of samples) {
      expect(stringifyDeep(sample)).to.equal(JSON.stringify(sample));
    }
  });

  it('writes values nested 20,000 levels deep, which JSON.stringify cannot, and they parse back', () => {
    const value = nested(20_000);
    expect(() => JSON.stringify(value)).to.throw(RangeError);
    const text = stringifyJson(value)!;
    expect(text.length).to.be.greaterThan(100_000);
    expect(stringifyJson(JSON.parse(text))).to.equal(text);
    const parsed = JSON.parse('{"data":'.repeat(20_000) + '"x"' + '}'.repeat(20_000));
    expect(stringifyJson(parsed)).to.equal('{"data":'.repeat(20_000) + '"x"' + '}'.repeat(20_000));
  });

  it('refuses cycles and BigInts deep down as JSON.stringify does, with a TypeError', () => {
    const cyclic: Record<string, unknown> = {};
    let inner = cyclic;
    for (let i = 0; i < 10_000; i++) inner = inner.next = {};
    inner.back = cyclic;
    expect(() => stringifyJson(cyclic)).to.throw(TypeError, /circular/);
    expect(() => stringifyDeep({ a: [cyclic] })).to.throw(TypeError, /circular/);
    expect(() => stringifyJson(nested(10_000, 1n))).to.throw(TypeError, /BigInt/);
    // The same object twice, not in a cycle, is fine.
    const shared = { x: 1 };
    expect(stringifyJson(nested(10_000, [shared, shared]))).to.include('[{"x":1},{"x":1}]');
  });
});
