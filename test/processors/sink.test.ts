// The sink seam: any object with a kind and open() is a sink. `stream.sink` runs it in every
// task: it takes each record with its input position, passes on at each commit what the sink
// finished (written ones to `applied`; failures to `failed` and the operator's error handling,
// with their original bytes), and closes it with the task. Under the TestDriver: no broker.
import { expect } from 'chai';
import type { StreamsBuilder } from '../../engine/dsl/builder.ts';
import { headerValue } from '../../engine/processors/processor.ts';
import type { Sink, SinkRecord } from '../../engine/processors/sink.ts';
import { applicationTopics } from '../../engine/runtime/application-topics.ts';
import { DeadLetterHeaders } from '../../engine/runtime/record-errors.ts';
import { Serdes } from '../../engine/serde/serde.ts';
import { TestDriver } from '../../engine/testing/test-driver.ts';
import { describeJson } from '../../engine/topology/describe.ts';

type Row = { id: string; n: number };

/** A sink that keeps rows in memory at each commit, refusing those with a negative `n`. */
function memorySink() {
  const written: Array<[string, Row]> = [];
  const events: string[] = [];
  const sink: Sink<string, Row> = {
    kind: 'memory',
    open(context) {
      events.push(`open ${context.name}`);
      let taken: Array<SinkRecord<string, Row>> = [];
      return {
        take: (record) => void taken.push(record),
        commit: async ({ drain }) => {
          events.push(`commit ${taken.length}${drain ? ' drain' : ''}`);
          const done = taken.map((record) => (record.value.n < 0 ? { record, error: new Error(`n must not be negative, got ${record.value.n}`) } : { record }));
          for (const { record, error } of done) if (!error) written.push([record.key, record.value]);
          taken = [];
          return done;
        },
        position: () => (taken.length === 0 ? undefined : { topic: taken[0]!.raw.topic, offset: taken[0]!.raw.offset }),
        close: async () => void events.push('close'),
      };
    },
  };
  return { sink, written, events };
}

const settings = { applicationId: 'memory-sink', keySerde: Serdes.string(), valueSerde: Serdes.json() };

describe('stream.sink: a sink of any kind', () => {
  it('takes records, passes on at each commit what it wrote and what failed, and closes with the task', async () => {
    const memory = memorySink();
    const topology = (builder: StreamsBuilder) => {
      const { applied, failed } = builder.stream<string, Row>('rows').sink(memory.sink, { name: 'rows-table', onError: { deadLetterTopic: 'rows-dlq' } });
      applied.mapValues((row) => ({ stored: row.id })).to('stored');
      failed.to('refused');
    };
    const driver = await TestDriver.create(topology, { settings });
    try {
      await driver.inputTopic<string, Row>('rows').pipeMany([['a', { id: 'a', n: 1 }], ['b', { id: 'b', n: -1 }], ['c', { id: 'c', n: 2 }]]);
      expect(memory.written).to.deep.equal([['a', { id: 'a', n: 1 }], ['c', { id: 'c', n: 2 }]]);
      expect(driver.outputTopic('stored').readKeyValues()).to.deep.equal([['a', { stored: 'a' }], ['c', { stored: 'c' }]]);
      expect(driver.outputTopic('refused').readKeyValues()).to.deep.equal([['b', { value: { id: 'b', n: -1 }, error: 'n must not be negative, got -1' }]]);
      const [dead, ...more] = driver.outputTopic('rows-dlq').readRaw();
      expect(more).to.have.length(0);
      expect(JSON.parse(dead!.value!.toString())).to.deep.equal({ id: 'b', n: -1 });
      expect(headerValue(dead!.headers, DeadLetterHeaders.errorMessage)).to.equal('n must not be negative, got -1');
    } finally {
      await driver.close();
    }
    // One task: opened once, the three records handed over at one commit, closed after the last (draining) commit.
    expect(memory.events[0]).to.equal('open rows-table');
    expect(memory.events.filter((e) => e.startsWith('commit ')).map((e) => Number(e.split(' ')[1]))).to.include(3).and.satisfy((counts: number[]) => counts.reduce((a, b) => a + b, 0) === 3);
    expect(memory.events.slice(-2)).to.deep.equal(['commit 0 drain', 'close']);

    // `describe` names the operator after the sink's kind; summaries and the reset tool list it as writing outside Kafka.
    const node = describeJson(driver.topology).subtopologies.flatMap((s) => s.nodes).find((n) => n.name === 'rows-table');
    expect(node).to.include({ operator: 'toMemory' });
    expect(applicationTopics(driver.topology).externalWriters).to.deep.equal([{ operator: 'toMemory', name: 'rows-table' }]);
  });

  it('reads its input from a topic: after another operator, through a repartition topic of its own; unnamed, after its kind', async () => {
    const memory = memorySink();
    const driver = await TestDriver.create((builder) => void builder.stream<string, Row>('rows').mapValues((row) => ({ ...row, n: row.n * 10 })).sink(memory.sink), { settings });
    try {
      const sinkNode = driver.topology.subtopologies.flatMap((s) => s.nodes).find((n) => n.kind === 'processor' && n.operator === 'toMemory')!;
      expect(sinkNode.name).to.match(/^KSTREAM-MEMORY-\d{10}$/);
      expect(driver.topology.internalTopics.map((t) => t.name)).to.include(`memory-sink-${sinkNode.name}-input-repartition`);
      await driver.inputTopic<string, Row>('rows').pipe('a', { id: 'a', n: 1 });
      expect(memory.written).to.deep.equal([['a', { id: 'a', n: 10 }]]);
    } finally {
      await driver.close();
    }
  });
});
