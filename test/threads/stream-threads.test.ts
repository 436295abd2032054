// An instance of two stream threads (`sluice run --num-stream-threads 2`): each thread a process
// and a member of the group with its own tasks, behind one query server that answers for every
// key, gathers every thread's metrics and readiness, and stops the threads on SIGTERM.
import { expect } from 'chai';
import { KafkaProducer } from '../../engine/kafka/producer.ts';
import { childInstances, failoverConfig, Instance } from '../helpers/instances.ts';
import { bootstrapServers, createUniqueTopic, uniqueName } from '../helpers/kafka.ts';
import { freePort } from '../../engine/local/ports.ts';
import { tempStateDir } from '../helpers/state.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Whether a process with this pid still runs. */
function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('stream threads: one instance, several processes behind one query server (real broker)', function () {
  this.timeout(180_000);
  const instances = childInstances();

  async function startThreaded(name: string) {
    const input = await createUniqueTopic('threads-in', 4);
    const output = await createUniqueTopic('threads-out', 4);
    const port = await freePort();
    const token = 'a-token-of-sixteen-chars';
    const instance = new Instance(
      name,
      ['test/fixtures/topologies/counter.ts', '--application-id', uniqueName('threads'), '--config', failoverConfig(), '--state-dir', tempStateDir(), '--num-stream-threads', '2', '--http-port', String(port)],
      { COUNT_INPUT: input, COUNT_OUTPUT: output, SLUICE_HTTP_TOKEN: token },
    );
    instances.push(instance);
    const url = `http://127.0.0.1:${port}`;
    const get = async (path: string) => {
      const response = await fetch(url + path, { headers: { authorization: `Bearer ${token}` } });
      return { status: response.status, text: await response.text() };
    };
    return { instance, input, url, get };
  }

  async function threadPids(instance: Instance): Promise<number[]> {
    await instance.waitFor((l) => l.msg === 'stream thread started' && l.thread === 1);
    return instance.log.filter((l) => l.msg === 'stream thread started').map((l) => l.pid as number);
  }

  it('shares the partitions between its threads and answers every key, metrics and readiness for all of them', async () => {
    const { instance, input, get } = await startThreaded('threaded');
    const pids = await threadPids(instance);
    const deadline = Date.now() + 60_000;
    while ((await get('/readyz').catch(() => ({ status: 0 }))).status !== 200 && Date.now() < deadline) await sleep(250);
    expect((await get('/readyz')).status).to.equal(200);

    const truth = new Map<string, number>();
    const producer = await KafkaProducer.connect({ bootstrapServers: bootstrapServers() });
    await producer.loadPartitionCounts([input]);
    for (let i = 0; i < 2_000; i++) {
      const key = `key-${i % 40}`;
      truth.set(key, (truth.get(key) ?? 0) + 1);
      producer.send({ topic: input, key: Buffer.from(key), value: Buffer.from(String(i)) });
    }
    await producer.disconnect();

    // Every key answers through the one server, whichever thread owns it.
    const answered = new Map<string, unknown>();
    while (Date.now() < deadline + 30_000) {
      for (const key of truth.keys()) {
        const { status, text } = await get(`/v1/stores/counts/keys/${key}`);
        if (status === 200) answered.set(key, JSON.parse(text).value);
      }
      if ([...truth].every(([key, n]) => answered.get(key) === n)) break;
      await sleep(500);
    }
    expect(Object.fromEntries(answered)).to.deep.equal(Object.fromEntries(truth));

    // Two members, each reached through this server, together owning every partition.
    const metadata = JSON.parse((await get('/v1/metadata')).text) as { instances: Array<{ endpoint: string; stores: Record<string, { running: number[] }> }> };
    expect(metadata.instances.map((i) => new URL(i.endpoint).pathname).sort()).to.deep.equal(['/threads/0', '/threads/1']);
    const owned = metadata.instances.map((i) => i.stores.counts!.running);
    expect(owned.every((partitions) => partitions.length > 0)).to.equal(true);
    expect(owned.flat().sort()).to.deep.equal([0, 1, 2, 3]);

    // One exposition: each family once, each sample labelled with its thread.
    const metrics = (await get('/metrics')).text;
    const types = metrics.split('\n').filter((l) => l.startsWith('# TYPE '));
    expect(new Set(types).size).to.equal(types.length);
    expect(metrics).to.match(/^sluice_tasks\{thread="0",state="running"\} [1-9]/m);
    expect(metrics).to.match(/^sluice_tasks\{thread="1",state="running"\} [1-9]/m);
    const processed = [...metrics.matchAll(/^sluice_records_processed_total\{thread="\d"\} (\d+)/gm)].map((m) => Number(m[1]));
    expect(processed).to.have.length(2);
    expect(processed.reduce((a, b) => a + b, 0)).to.equal(2_000);

    // A request without the token is refused by the front server itself.
    expect((await fetch(`${new URL((metadata.instances[0]!).endpoint).origin}/metrics`)).status).to.equal(401);

    instance.child.kill('SIGTERM');
    expect((await instance.exited).code).to.equal(0);
    await sleep(200);
    expect(pids.filter(running)).to.deep.equal([]);
  });

  it('stops the instance when a thread dies, leaving no thread behind', async () => {
    const { instance } = await startThreaded('thread-killed');
    const pids = await threadPids(instance);
    await instance.waitFor((l) => l.msg === 'state changed' && l.to === 'RUNNING');
    process.kill(pids[1]!, 'SIGKILL');
    const { code } = await instance.exited;
    expect(code).to.not.equal(0);
    expect(instance.log.some((l) => l.msg === 'a stream thread exited on an error; stopping the instance' && l.thread === 1)).to.equal(true);
    await sleep(200);
    expect(pids.filter(running)).to.deep.equal([]);
  });
});
