// A DSL object with a method named `then` is a thenable: `await builder.stream('x')` would call
// it as `then(resolve, reject)`, never settle, and record a node named after a native function.
import { expect } from 'chai';
import { StreamsBuilder } from '../../engine/dsl/builder.ts';
import { Serdes } from '../../engine/serde/serde.ts';

/** What awaiting `value` gives within a second, or 'pending'. */
async function settle(value: unknown): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined;
  const pending = new Promise((resolve) => (timer = setTimeout(() => resolve('pending'), 1_000)));
  try {
    return await Promise.race([(async () => await value)(), pending]);
  } finally {
    clearTimeout(timer);
  }
}

describe('DSL objects are not thenables', () => {
  it('awaiting a stream, a table, a grouped stream or a splitter settles to the object itself and adds no node', async () => {
    const builder = new StreamsBuilder();
    const stream = builder.stream<string, string>('in', { key: Serdes.string(), value: Serdes.string() });
    const table = builder.table<string, string>('profiles', { name: 'profiles' });
    const grouped = stream.groupByKey();
    const splitter = stream.split({ name: 'split' });
    const nodes = builder.graph.nodes.map((n) => n.name);
    for (const object of [stream, table, grouped, splitter]) {
      expect(await settle(object)).to.equal(object);
    }
    expect(builder.graph.nodes.map((n) => n.name)).to.deep.equal(nodes);
    // And the objects still work afterwards.
    stream.mapValues((v) => v.length, { name: 'lengths' });
    expect(builder.graph.nodes.map((n) => n.name)).to.deep.equal([...nodes, 'lengths']);
  });
});
