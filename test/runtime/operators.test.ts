import { expect } from 'chai';
import type { ConsumedRecord, RecordHeader } from '../../engine/kafka/records.ts';
import { headerValue, type RecordContext } from '../../engine/processors/processor.ts';
import type { Application } from '../../engine/runtime/application.ts';
import { defineApplication } from '../../engine/runtime/definition.ts';
import { Serdes } from '../../engine/serde/serde.ts';
import { startApplication, text, waitForRecords } from '../helpers/app.ts';
import { createTopic, produceRecords, uniqueName } from '../helpers/kafka.ts';

type Reading = { sensor: string; celsius: number; tags: string[] };
type Note = { note: string };

describe('operators on a real broker', function () {
  this.timeout(120_000);
  const prefix = uniqueName('ops');
  const t = (name: string) => `${prefix}-${name}`;
  const outputs = ['filter', 'filterNot', 'map', 'mapValues', 'flatMap', 'flatMapValues', 'selectKey', 'peek', 'split-hot', 'split-cold', 'split-rest', 'merge', 'repartition', 'to-fn-even', 'to-fn-odd', 'headers', 'process', 'context'];
  const peeked: string[] = [];
  const contexts: Array<Omit<RecordContext, 'headers'> & { headers: string | undefined }> = [];
  let app: Application;
  const byTopic = new Map<string, ConsumedRecord[]>();

  const readings: Array<{ key: string; value: Reading }> = [
    { key: 's1', value: { sensor: 's1', celsius: 31, tags: ['roof'] } },
    { key: 's2', value: { sensor: 's2', celsius: -4, tags: ['cellar', 'north'] } },
    { key: 's3', value: { sensor: 's3', celsius: 18, tags: [] } },
    { key: 's1', value: { sensor: 's1', celsius: 35, tags: ['roof', 'sun'] } },
  ];

  before(async () => {
    await createTopic(t('in'), 2);
    await createTopic(t('side'), 1);
    for (const out of outputs) await createTopic(t(out), 2);
    const definition = defineApplication({
      applicationId: 'operators',
      keySerde: Serdes.string(),
      valueSerde: Serdes.json(),
      topology: (builder) => {
        const input = builder.stream<string, Reading>(t('in'), { name: 'in' });
        input.filter((_, r) => r.celsius > 20).to(t('filter'));
        input.filterNot((_, r) => r.celsius > 20).to(t('filterNot'));
        input.map((k, r) => [`${k}!`, r.celsius] as const).to(t('map'));
        input.mapValues((r, k) => `${k}:${r.celsius}`).to(t('mapValues'));
        input.flatMap((k, r) => r.tags.map((tag) => [tag, k] as const)).to(t('flatMap'));
        input.flatMapValues((r) => r.tags).to(t('flatMapValues'));
        input.selectKey((_, r) => (r.celsius > 0 ? 'warm' : 'frozen')).to(t('selectKey'));
        input.peek((k, r) => peeked.push(`${k}=${r.celsius}`)).to(t('peek'));
        const { hot, cold, rest } = input
          .split({ name: 'weather' })
          .branch('hot', (_, r) => r.celsius > 30)
          .branch('cold', (_, r) => r.celsius < 0)
          .defaultBranch('rest');
        hot.to(t('split-hot'));
        cold.to(t('split-cold'));
        rest.to(t('split-rest'));
        // Streams of different value types merge into one of their union.
        input
          .merge(builder.stream<string, Note>(t('side'), { name: 'side' }))
          .mapValues((v) => ('note' in v ? `note:${v.note}` : `reading:${v.celsius}`))
          .to(t('merge'));
        input.selectKey((_, r) => `by-${r.sensor}`).repartition({ name: 'rekeyed' }).to(t('repartition'));
        input.to((_, r) => (r.celsius % 2 === 0 ? t('to-fn-even') : t('to-fn-odd')));
        input.withHeaders((_, r, ctx) => [...(ctx.headers ?? []), { unit: 'celsius' }, { sensor: r.sensor }]).to(t('headers'));
        input
          .process<string, number>(({ next }) => {
            let count = 0; // per-task state lives in the closure
            return (key) => next(key, ++count);
          })
          .to(t('process'));
        input
          .peek((_, __, ctx) => contexts.push({ topic: ctx.topic, partition: ctx.partition, offset: ctx.offset, timestamp: ctx.timestamp, headers: headerValue(ctx.headers, 'correlation_id') }))
          .to(t('context'));
      },
    });
    app = await startApplication(definition);
    await produceRecords(
      t('in'),
      readings.map((r, i) => ({ key: r.key, value: JSON.stringify(r.value), headers: [{ correlation_id: `corr-${i}` }, { causation_id: `cause-${i}` }] as RecordHeader[] })),
    );
    await produceRecords(t('side'), [{ key: 'side-1', value: JSON.stringify({ note: 'calibrated' }) }]);
    const expected: Record<string, number> = { filter: 2, filterNot: 2, map: 4, mapValues: 4, flatMap: 5, flatMapValues: 5, selectKey: 4, peek: 4, 'split-hot': 2, 'split-cold': 1, 'split-rest': 1, merge: 5, repartition: 4, 'to-fn-even': 2, 'to-fn-odd': 2, headers: 4, process: 4, context: 4 };
    for (const out of outputs) byTopic.set(out, await waitForRecords(t(out), expected[out]!));
  });

  after(async () => {
    await app?.close();
  });

  /** Values of an output in an order independent of partitioning. */
  const values = (out: string) => byTopic.get(out)!.map((r) => `${text(r.key)}=${text(r.value)}`).sort();

  it('filter and filterNot keep and drop by predicate', () => {
    expect(values('filter')).to.deep.equal([`s1=${JSON.stringify(readings[0]!.value)}`, `s1=${JSON.stringify(readings[3]!.value)}`]);
    expect(values('filterNot').map((v) => v.split('=')[0])).to.deep.equal(['s2', 's3']);
  });

  it('map, mapValues and selectKey replace keys and values', () => {
    expect(values('map')).to.deep.equal(['s1!=31', 's1!=35', 's2!=-4', 's3!=18']);
    expect(values('mapValues')).to.deep.equal(['s1="s1:31"', 's1="s1:35"', 's2="s2:-4"', 's3="s3:18"']);
    expect(values('selectKey').map((v) => v.split('=')[0])).to.deep.equal(['frozen', 'warm', 'warm', 'warm']);
  });

  it('flatMap and flatMapValues emit zero or more records per input', () => {
    expect(values('flatMap')).to.deep.equal(['cellar="s2"', 'north="s2"', 'roof="s1"', 'roof="s1"', 'sun="s1"']);
    expect(values('flatMapValues')).to.deep.equal(['s1="roof"', 's1="roof"', 's1="sun"', 's2="cellar"', 's2="north"']);
  });

  it('peek sees every record and passes it on', () => {
    expect([...peeked].sort()).to.deep.equal(['s1=31', 's1=35', 's2=-4', 's3=18']);
    expect(values('peek')).to.have.length(4);
  });

  it('split sends each record to the first matching branch or the default', () => {
    expect(values('split-hot').map((v) => v.split('=')[0])).to.deep.equal(['s1', 's1']);
    expect(values('split-cold').map((v) => v.split('=')[0])).to.deep.equal(['s2']);
    expect(values('split-rest').map((v) => v.split('=')[0])).to.deep.equal(['s3']);
  });

  it('merge combines two streams, of different value types', () => {
    expect(values('merge')).to.deep.equal(['s1="reading:31"', 's1="reading:35"', 's2="reading:-4"', 's3="reading:18"', 'side-1="note:calibrated"']);
  });

  it('repartition places records by their new key through an internal topic', () => {
    expect(values('repartition').map((v) => v.split('=')[0])).to.deep.equal(['by-s1', 'by-s1', 'by-s2', 'by-s3']);
    expect(app.topology.internalTopics.map((i) => i.name)).to.deep.equal([`${app.topology.applicationId}-rekeyed-repartition`]);
  });

  it('to(chooser) picks the topic per record', () => {
    expect(values('to-fn-even').map((v) => v.split('=')[0])).to.deep.equal(['s2', 's3']);
    expect(values('to-fn-odd').map((v) => v.split('=')[0])).to.deep.equal(['s1', 's1']);
  });

  it('carries correlation and causation headers from input to output, and withHeaders adds to them', () => {
    for (const record of byTopic.get('mapValues')!) {
      expect(headerValue(record.headers, 'correlation_id')).to.match(/^corr-\d$/);
      expect(headerValue(record.headers, 'causation_id')).to.match(/^cause-\d$/);
    }
    for (const record of byTopic.get('headers')!) {
      expect(headerValue(record.headers, 'unit')).to.equal('celsius');
      expect(headerValue(record.headers, 'sensor')).to.equal(text(record.key));
      expect(headerValue(record.headers, 'correlation_id')).to.match(/^corr-\d$/);
    }
    // The sibling branches did not get the added headers.
    expect(byTopic.get('peek')!.every((r) => headerValue(r.headers, 'unit') === undefined)).to.equal(true);
  });

  it('a custom processor keeps per-task state', () => {
    const perPartition = new Map<number, number[]>();
    for (const r of byTopic.get('process')!) perPartition.set(r.partition, [...(perPartition.get(r.partition) ?? []), Number(text(r.value))]);
    const counts = [...perPartition.values()].flat().sort();
    expect(counts).to.include(1);
    expect(Math.max(...counts)).to.be.at.most(4);
  });

  it('operators see topic, partition, offset, timestamp and headers; outputs keep the input timestamp', () => {
    expect(contexts).to.have.length(4);
    for (const c of contexts) {
      expect(c.topic).to.equal(t('in'));
      expect(c.partition).to.be.oneOf([0, 1]);
      expect(c.offset).to.be.at.least(0);
      expect(Math.abs(c.timestamp - Date.now())).to.be.below(120_000);
      expect(c.headers).to.match(/^corr-\d$/);
    }
    const timestamps = new Set(contexts.map((c) => c.timestamp));
    for (const r of byTopic.get('context')!) expect(timestamps.has(r.timestamp)).to.equal(true);
  });
});
