// Windowed aggregations on a real broker: stream time and the windows' state survive restarts
// (a record late before a restart is late after it), late records reach their topic with their
// original bytes, and under exactly-once each window's final result is written exactly once
// across kill -9.
import { expect } from 'chai';
import { KafkaProducer } from '../../engine/kafka/producer.ts';
import { KafkaConsumer } from '../../engine/kafka/consumer.ts';
import { DeadLetterHeaders, defineApplication, headerValue, Serdes, TimeWindows, type Windowed } from 'sluice';
import { startApplication, waitForRecords } from '../helpers/app.ts';
import { childInstances, failoverConfig, Instance } from '../helpers/instances.ts';
import { RECENT_HOUR, bootstrapServers, createUniqueTopic, produceRecords, readAll, uniqueName } from '../helpers/kafka.ts';
import { tempStateDir } from '../helpers/state.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const windowed = Serdes.timeWindowed(Serdes.string(), 10_000);
const T0 = RECENT_HOUR;

/** Output records as `key@start=count`, in order. */
async function counts(topic: string, isolation?: 'read_committed'): Promise<string[]> {
  return (await readAll(topic, isolation)).map((r) => {
    const key = windowed.deserialize(r.key, topic) as Windowed<string>;
    return `${key.key}@${key.window.start - T0}=${r.value?.toString('utf8')}`;
  });
}

describe('windowed aggregations on a broker', function () {
  this.timeout(300_000);
  const instances = childInstances();

  it('keeps stream time across a restart on fresh state: a record late before it is late after it, and goes to the late-record topic', async () => {
    const input = await createUniqueTopic('win-in', 1);
    const output = await createUniqueTopic('win-out', 1);
    const late = await createUniqueTopic('win-late', 1);
    const applicationId = uniqueName('win-restart');
    const definition = defineApplication({
      applicationId,
      keySerde: Serdes.string(),
      valueSerde: Serdes.string(),
      topology: (b) =>
        b
          .stream<string, string>(input)
          .groupByKey()
          .windowedBy(TimeWindows.ofSizeWithNoGrace(10_000))
          .count({ name: 'counts', caching: false, onLate: { deadLetterTopic: late } })
          .toStream()
          .to(output, { value: Serdes.json() }),
    });
    const at = (key: string, second: number) => ({ key, value: `${key}${second}`, timestamp: T0 + second * 1_000 });
    await produceRecords(input, [at('a', 1), at('a', 25)]);
    let app = await startApplication(definition, { applicationId, stateDir: tempStateDir(), commitIntervalMs: 100 });
    await waitForRecords(output, 2);
    await sleep(500);
    await app.close();

    // Another machine (empty state): the windows come back from the changelog, stream time (25 s) from the commit.
    await produceRecords(input, [at('a', 5), at('a', 26)]);
    app = await startApplication(definition, { applicationId, stateDir: tempStateDir(), commitIntervalMs: 100, http: { port: 0 } });
    await waitForRecords(output, 3);
    await sleep(1_000);
    const metrics = await (await fetch(`${app.endpoint}/metrics`)).text();
    await app.close();
    expect(metrics).to.match(/^sluice_late_records_total\{store="counts"\} 1$/m);
    expect(await counts(output)).to.deep.equal(['a@0=1', 'a@20000=1', 'a@20000=2']);
    // The windows' changelog records carry the time they were written, not the (months old) event
    // time: time retention keeps them a day past the store's retention from now, so the second
    // run above found its windows there.
    const changelog = await readAll(`${applicationId}-counts-changelog`);
    expect(changelog.length).to.be.greaterThan(0);
    for (const r of changelog) expect(r.timestamp).to.be.greaterThan(Date.now() - 10 * 60_000);
    const dead = await readAll(late);
    expect(dead.map((r) => r.value?.toString('utf8'))).to.deep.equal(['a5']);
    expect(headerValue(dead[0]!.headers, DeadLetterHeaders.stage)).to.equal('late');
    expect(headerValue(dead[0]!.headers, DeadLetterHeaders.errorMessage)).to.match(/had closed/);
  });

  it('keeps counting a window held in local state when the committed offsets carry no metadata (reset by another tool)', async () => {
    const input = await createUniqueTopic('win-nometa-in', 1);
    const output = await createUniqueTopic('win-nometa-out', 1);
    const applicationId = uniqueName('win-nometa');
    const stateDir = tempStateDir();
    const definition = defineApplication({
      applicationId,
      keySerde: Serdes.string(),
      valueSerde: Serdes.string(),
      topology: (b) => b.stream<string, string>(input).groupByKey().windowedBy(TimeWindows.ofSizeAndGrace(60_000, 10_000)).count({ name: 'counts', caching: false }).toStream().to(output, { value: Serdes.json() }),
    });
    await produceRecords(input, [{ key: 'a', value: '1', timestamp: T0 + 10_000 }, { key: 'a', value: '2', timestamp: T0 + 20_000 }]);
    let app = await startApplication(definition, { applicationId, stateDir, commitIntervalMs: 100 });
    await waitForRecords(output, 2);
    await sleep(500);
    await app.close();
    // The same offsets committed again without metadata, as a reset tool or another client does.
    const consumer = await KafkaConsumer.connect({ bootstrapServers: bootstrapServers(), groupId: applicationId });
    await consumer.commit([{ topic: input, partition: 0, offset: 2 }]);
    await consumer.disconnect();
    await produceRecords(input, [{ key: 'a', value: '3', timestamp: T0 + 30_000 }]);
    app = await startApplication(definition, { applicationId, stateDir, commitIntervalMs: 100 });
    await waitForRecords(output, 3);
    await app.close();
    expect(await counts(output)).to.deep.equal(['a@0=1', 'a@0=2', 'a@0=3']);
  });

  it('writes each window\'s final result exactly once under exactly-once, with an instance killed with -9 mid-stream', async () => {
    const input = await createUniqueTopic('wfinal-in', 3);
    const output = await createUniqueTopic('wfinal-out', 3);
    const late = await createUniqueTopic('wfinal-late', 3);
    const applicationId = uniqueName('wfinal');
    const config = failoverConfig();
    const start = (name: string) => {
      const instance = new Instance(name, ['test/fixtures/topologies/windowed.ts', '--application-id', applicationId, '--config', config, '--state-dir', tempStateDir(), '--guarantee', 'exactly_once'], {
        WINDOW_INPUT: input,
        WINDOW_OUTPUT: output,
        WINDOW_LATE: late,
      });
      instances.push(instance);
      return instance;
    };
    const a = start('a');
    const b = start('b');
    const hasWork = (l: Record<string, unknown>) => l.msg === 'partitions assigned' && (l.partitions as string[]).length > 0;
    await Promise.all([a.waitFor(hasWork), b.waitFor(hasWork)]);

    // 30 keys, one record per key every 500 ms of event time, over 120 s of event time: 12 windows per key.
    const truth = new Map<string, number>();
    const producer = await KafkaProducer.connect({ bootstrapServers: bootstrapServers() });
    await producer.loadPartitionCounts([input]);
    const seconds = 120;
    for (let half = 0; half < seconds * 2; half++) {
      for (let k = 0; k < 30; k++) {
        const key = `k${k}`;
        const timestamp = T0 + half * 500;
        const start = Math.floor((timestamp - T0) / 10_000) * 10_000;
        truth.set(`${key}@${start}`, (truth.get(`${key}@${start}`) ?? 0) + 1);
        producer.send({ topic: input, key: Buffer.from(key), value: Buffer.from(String(half)), timestamp });
      }
      if (half % 40 === 39) {
        await producer.flush();
        await sleep(300);
      }
      if (half === 120) {
        a.child.kill('SIGKILL');
        await a.exited;
      }
    }
    // Closes the last windows: a record per key far ahead.
    for (let k = 0; k < 30; k++) producer.send({ topic: input, key: Buffer.from(`k${k}`), value: Buffer.from('end'), timestamp: T0 + 200_000 });
    await producer.flush();
    await producer.disconnect();
    const expected = [...truth.entries()].map(([window, n]) => `${window}=${n}`).sort();
    const deadline = Date.now() + 120_000;
    let finals: string[] = [];
    while (Date.now() < deadline) {
      finals = (await counts(output, 'read_committed')).sort();
      if (finals.length >= expected.length) break;
      await sleep(1_000);
    }
    expect(finals, 'each window once, with its true count').to.deep.equal(expected);
    expect(await readAll(late, 'read_committed'), 'nothing late').to.have.length(0);
  });
});
