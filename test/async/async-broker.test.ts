// Async operators on a real broker, calling a real HTTP service on loopback: the task's inputs
// pause while its operator holds `concurrency` records, instead of buffering the topic; an
// instance that stops gives up its calls in flight through their signal (it does not wait for a
// service that never answers) and the partition's next owner calls them again, each key in order;
// under exactly-once, a stalled call holds back the commit of what comes after it only, unless the
// records went through a store or a sink before they reached the operator.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { defineApplication, Serdes } from 'sluice';
import { KafkaAdmin } from '../../engine/kafka/admin.ts';
import { KafkaProducer } from '../../engine/kafka/producer.ts';
import { startApplication, waitForRecords, waitForRecordsUntil } from '../helpers/app.ts';
import { childInstances, failoverConfig, Instance } from '../helpers/instances.ts';
import { bootstrapServers, createUniqueTopic, readAll, uniqueName } from '../helpers/kafka.ts';
import { tempStateDir } from '../helpers/state.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A service answering `GET /echo?value=n` with n after `delayMs`, or never for the values `stall` picks. */
async function echoService(delayMs: number, stall: (value: number) => boolean = () => false) {
  const state = { calls: 0, answered: 0, aborted: 0, open: 0, mostOpen: 0 };
  const server = http.createServer((request, response) => {
    const value = Number(new URL(request.url ?? '/', 'http://service').searchParams.get('value'));
    state.calls++;
    state.mostOpen = Math.max(state.mostOpen, ++state.open);
    response.on('close', () => {
      state.open--;
      if (!response.writableFinished) state.aborted++;
    });
    if (stall(value)) return;
    setTimeout(() => {
      state.answered++;
      response.end(String(value));
    }, delayMs);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const close = () => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve())));
  return { url, state, close };
}

async function load(topic: string, records: Array<[string, number]>): Promise<void> {
  const producer = await KafkaProducer.connect({ bootstrapServers: bootstrapServers() });
  await producer.loadPartitionCounts([topic]);
  for (const [key, value] of records) producer.send({ topic, key: Buffer.from(key), value: Buffer.from(JSON.stringify(value)) });
  await producer.flush();
  await producer.disconnect();
}

describe('async operators on a broker, calling an HTTP service', function () {
  this.timeout(180_000);
  const instances = childInstances();

  it('takes no more records than the operator has room for, rather than taking in the topic', async () => {
    const service = await echoService(20);
    const [input, output] = await Promise.all([createUniqueTopic('async-pause-in', 2), createUniqueTopic('async-pause-out', 2)]);
    await load(input, Array.from({ length: 3_000 }, (_, n) => [`k${n % 50}`, n] as [string, number]));
    const app = await startApplication(
      defineApplication({
        applicationId: 'async-pause',
        keySerde: Serdes.string(),
        valueSerde: Serdes.json<number>(),
        topology: (b) =>
          b
            .stream<string, number>(input)
            .mapValuesAsync(async (n, _key, { signal }) => Number(await (await fetch(`${service.url}/echo?value=${n}`, { signal })).text()), { name: 'echo-call', concurrency: 16 })
            .to(output),
      }),
      { loop: { maxBatch: 50 }, http: { port: 0 } },
    );
    try {
      // Taken by the tasks (processed) but not yet answered: what the operator holds.
      let mostHeld = 0;
      while (service.state.answered < 3_000) {
        mostHeld = Math.max(mostHeld, app.progress.processed - service.state.answered);
        await sleep(20);
      }
      const out = await waitForRecords(output, 3_000);
      expect(out).to.have.length(3_000);
      // Two tasks: the loop takes no more than twice the concurrency for each, the inputs pause at
      // four times; beyond that only the batch in hand (50).
      expect(mostHeld).to.be.below(2 * 4 * 16 + 50);
      expect(service.state.mostOpen).to.be.at.most(32);
      const metrics = await (await fetch(`${app.endpoint}/metrics`)).text();
      expect(metrics).to.contain('sluice_async_calls_total{operator="echo-call"} 3000');
      expect(metrics).to.contain('sluice_async_in_flight{operator="echo-call"} 0');
      expect(metrics).to.contain('sluice_async_call_duration_seconds_count{operator="echo-call"} 3000');
      expect(metrics).to.contain('sluice_async_failures_total{operator="echo-call"} 0');
    } finally {
      await app.close();
      await service.close();
    }
  });

  it('an instance that stops aborts its calls in flight, and the next owner calls them again, each key in order', async () => {
    // The first call for values 200-209 never gets an answer; their retries (on the survivor) do.
    const stalled = new Set<number>();
    const service = await echoService(2, (value) => value >= 200 && value < 210 && !stalled.has(value) && (stalled.add(value), true));
    const [input, output] = await Promise.all([createUniqueTopic('async-stop-in', 2), createUniqueTopic('async-stop-out', 2)]);
    const applicationId = uniqueName('async-stop');
    const config = failoverConfig({});
    const start = (name: string) => {
      const instance = new Instance(name, ['test/fixtures/topologies/async-service.ts', '--application-id', applicationId, '--config', config, '--state-dir', tempStateDir()], {
        ASYNC_SERVICE: service.url,
        ASYNC_INPUT: input,
        ASYNC_OUTPUT: output,
      });
      instances.push(instance);
      return instance;
    };
    const a = start('a');
    await a.waitFor((l) => l.msg === 'partitions assigned' && (l.partitions as string[]).length === 2);
    const records = Array.from({ length: 400 }, (_, n) => [`k${n % 20}`, n] as [string, number]);
    await load(input, records.slice(0, 300));
    const deadline = Date.now() + 30_000;
    while (service.state.calls < 300 && Date.now() < deadline) await sleep(100);
    const b = start('b');
    await b.waitFor((l) => l.msg === 'partitions assigned');
    a.child.kill('SIGTERM');
    const stoppedWithin = await Promise.race([a.exited.then(() => true), sleep(20_000).then(() => false)]);
    expect(stoppedWithin, 'the stopping instance gave up its stalled calls').to.equal(true);
    await load(input, records.slice(300));
    // At least once, records the stopping instance had written may come again: wait for every
    // value, not for 400 records.
    const distinct = (records: Array<{ value: Buffer | null }>) => new Set(records.map((r) => Number(r.value!.toString()))).size;
    const out = await waitForRecordsUntil(output, (records) => distinct(records) >= 400, 60_000);
    const byKey = new Map<string, number[]>();
    for (const r of out) byKey.set(r.key!.toString(), [...(byKey.get(r.key!.toString()) ?? []), Number(r.value!.toString())]);
    for (const [key, values] of byKey) {
      const firsts = values.filter((v, i) => values.indexOf(v) === i);
      expect(firsts, `key ${key} in order`).to.deep.equal([...firsts].sort((x, y) => x - y));
    }
    expect(distinct(out), 'every record').to.equal(400);
    expect(service.state.aborted, 'the stalled calls were aborted').to.be.at.least(1);
    await service.close();
  });

  describe('under exactly-once, with one call that stalls for 6 s', () => {
    // Values 0-99 of ten keys on one partition; the first call for 5 (in the first batch the task
    // takes) gets no answer and times out after 6 s, and its retry is answered at once.
    async function run(withSibling: boolean) {
      let stalledOnce = false;
      const service = await echoService(2, (value) => value === 5 && !stalledOnce && (stalledOnce = true));
      const [input, output, echo] = await Promise.all([createUniqueTopic('async-eos-in', 1), createUniqueTopic('async-eos-out', 1), createUniqueTopic('async-eos-echo', 1)]);
      await load(input, Array.from({ length: 100 }, (_, n) => [`k${n % 10}`, n] as [string, number]));
      const applicationId = uniqueName('async-eos');
      const app = await startApplication(
        defineApplication({
          applicationId,
          keySerde: Serdes.string(),
          valueSerde: Serdes.json<number>(),
          topology: (b) => {
            const source = b.stream<string, number>(input);
            // A second way out of the source: the records are sent before they reach the operator.
            if (withSibling) source.to(echo);
            source
              .mapValuesAsync(async (n, _key, { signal }) => Number(await (await fetch(`${service.url}/echo?value=${n}`, { signal })).text()), {
                name: 'echo-call',
                concurrency: 16,
                timeoutMs: 6_000,
                retry: { attempts: 2, backoffMs: 10 },
              })
              .to(output);
          },
        }),
        { applicationId, guarantee: 'exactly_once', commitIntervalMs: 100, stateDir: tempStateDir() },
      );
      const admin = KafkaAdmin.connect({ bootstrapServers: bootstrapServers() });
      try {
        // Half-way through the stall: how far the group has committed the input.
        await sleep(3_000);
        const committed = (await admin.groupOffsets(applicationId)).find((o) => o.topic === input)?.offset ?? 0;
        await waitForRecordsUntil(output, (records) => records.length >= 100, 30_000);
        await sleep(500);
        const all = (await readAll(output, 'read_committed')).map((r) => Number(r.value!.toString()));
        return { committed, all, stalled: stalledOnce };
      } finally {
        await app.close();
        await service.close();
        admin.disconnect();
      }
    }

    it('commits the outputs of the records before it meanwhile, when its input is replayable (a chain of stateless operators)', async () => {
      const { committed, all, stalled } = await run(false);
      expect(stalled).to.equal(true);
      // Held at the stalled record: the outputs before it are committed (they leave in input order).
      expect(committed).to.equal(5);
      expect(all).to.deep.equal(Array.from({ length: 100 }, (_, n) => n));
    });

    it('waits for it before any commit when the records went through a sink first, and still writes each output once', async () => {
      const { committed, all, stalled } = await run(true);
      expect(stalled).to.equal(true);
      expect(committed).to.equal(0);
      expect([...all].sort((x, y) => x - y)).to.deep.equal(Array.from({ length: 100 }, (_, n) => n));
    });
  });
});
