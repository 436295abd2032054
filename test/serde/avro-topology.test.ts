import path from 'node:path';
import avro from 'avsc';
import { expect } from 'chai';
import { AvroSerde, readSchemaFile, wireSchemaId } from '../../engine/serde/avro/avro-serde.ts';
import { DeadLetterHeaders } from '../../engine/runtime/record-errors.ts';
import { headerValue } from '../../engine/processors/processor.ts';
import { loadTopologyFile } from '../../engine/cli/topology-file.ts';
import { startApplication, waitForRecords } from '../helpers/app.ts';
import { createTopic, produceRecords, uniqueName } from '../helpers/kafka.ts';
import { readStoreFromDisk, tempStateDir } from '../helpers/state.ts';

const FIXTURE = path.resolve(import.meta.dirname, '..', 'fixtures', 'topologies', 'avro-media.ts');
const TYPES = ['MediaItemCreated', 'AnalysisStarted', 'AnalysisCompleted'];

describe('a topology file with Avro end to end (real broker)', function () {
  this.timeout(120_000);

  it('reads, writes and stores Avro in the Confluent wire format; unreadable records go to the dead-letter topic with their bytes', async () => {
    const prefix = uniqueName('avro');
    const topics = { input: `${prefix}-media-events`, output: `${prefix}-seen`, deadLetter: `${prefix}-dead-letter` };
    // The fixture reads its topic names from the environment when it is loaded.
    Object.assign(process.env, { AVRO_INPUT: topics.input, AVRO_OUTPUT: topics.output, AVRO_DEAD_LETTER: topics.deadLetter });
    await createTopic(topics.input, 3);
    const definition = await loadTopologyFile(FIXTURE);
    const stateDir = tempStateDir();
    const applicationId = `${prefix}-app`;
    const app = await startApplication(definition, { applicationId, stateDir, commitIntervalMs: 200 });
    for (const name of ['AVRO_INPUT', 'AVRO_OUTPUT', 'AVRO_DEAD_LETTER']) delete process.env[name];
    try {
      const type = avro.Type.forSchema(readSchemaFile('media-event.avsc'));
      const writer = new AvroSerde({ schema: type });
      await writer.prepare(topics.input);
      const events = Array.from({ length: 300 }, (_, i) => ({
        ...(type.random() as unknown as Record<string, unknown>),
        aggregate_id: `media-${i % 40}`,
        event_type: TYPES[i % TYPES.length]!,
        version: i + 1,
      }));
      const good = events.map((e) => ({ key: e.aggregate_id, value: writer.serialize(e, topics.input)! }));
      const header = Buffer.from(good[0]!.value.subarray(0, 5));
      const bad = [
        Buffer.from([0, 0x7f, 0x00, 0x00, 0x01, 0x02, 0x03]), // a schema id no registry has
        Buffer.concat([header, Buffer.from([0xff, 0xff, 0xff])]), // a known id, a corrupt body
        Buffer.from(JSON.stringify(events[0])), // JSON, not the wire format
      ];
      // The bad records sit between good ones: processing must go on past them.
      await produceRecords(topics.input, [...good.slice(0, 150), ...bad.map((value) => ({ key: 'media-0', value })), ...good.slice(150)]);

      const dead = await waitForRecords(topics.deadLetter, bad.length);
      expect(dead.map((r) => r.value!.toString('hex')).sort()).to.deep.equal(bad.map((b) => b.toString('hex')).sort());
      for (const r of dead) expect(headerValue(r.headers, DeadLetterHeaders.errorClass)).to.equal('SerdeError');

      const seen = await waitForRecords(topics.output, events.length);
      expect(seen).to.have.length(events.length);
      const reader = new AvroSerde<{ media_id: string; event_type: string; version: number }>({ schema: (await import(FIXTURE)).SEEN_SCHEMA as never });
      const summaries = [];
      for (const r of seen) {
        expect(r.value![0], 'magic byte').to.equal(0);
        await reader.prefetch(r.value);
        const s = reader.deserialize(r.value, topics.output);
        summaries.push(`${s.media_id} ${s.event_type} ${s.version}`);
      }
      expect(summaries.sort()).to.deep.equal(events.map((e) => `${e.aggregate_id} ${e.event_type} ${e.version}`).sort());
    } finally {
      await app.close();
    }
    // The store kept Avro values (wire format, the store's own schema id) with the right counts.
    const stored = await readStoreFromDisk(stateDir, applicationId, 'avro-event-counts', 'hex');
    const counts = new AvroSerde<number>({ schema: 'long' as never });
    const decoded: Record<string, number> = {};
    for (const [key, hex] of stored) {
      const bytes = Buffer.from(hex, 'hex');
      expect(wireSchemaId(bytes)).to.be.a('number');
      await counts.prefetch(bytes);
      decoded[key] = counts.deserialize(bytes, '');
    }
    expect(decoded).to.deep.equal({ MediaItemCreated: 100, AnalysisStarted: 100, AnalysisCompleted: 100 });
  });
});
