import { expect } from 'chai';
import { KafkaProducer } from '../../engine/kafka/producer.ts';
import { text } from './app.ts';
import { bootstrapServers, readAll } from './kafka.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Records for the counter fixture over `keys` keys, with each key's true count: `send(from, n)`
 * writes records from..from+n-1; `expectCounted(output)` waits until the output's last count of
 * every key is at least its true count (at least once: a record processed again after a crash
 * may count twice, none may be lost), and fails naming the keys counted short.
 */
export async function countedFeed(input: string, keys = 3_000) {
  const truth = new Map<string, number>();
  const producer = await KafkaProducer.connect({ bootstrapServers: bootstrapServers() });
  await producer.loadPartitionCounts([input]);
  return {
    truth,
    async send(from: number, n: number): Promise<void> {
      for (let i = from; i < from + n; i++) {
        const key = `key-${(i * 7919) % keys}`;
        truth.set(key, (truth.get(key) ?? 0) + 1);
        producer.send({ topic: input, key: Buffer.from(key), value: Buffer.from(String(i)) });
      }
      await producer.flush();
    },
    async expectCounted(output: string, timeoutMs = 60_000): Promise<void> {
      const last = new Map<string, number>();
      for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; ) {
        for (const r of await readAll(output)) last.set(text(r.key)!, Number(text(r.value)));
        if ([...truth].every(([key, n]) => (last.get(key) ?? 0) >= n)) break;
        await sleep(500);
      }
      expect([...truth].filter(([key, n]) => (last.get(key) ?? 0) < n).map(([key, n]) => `${key}: ${last.get(key)} of ${n}`).slice(0, 5)).to.deep.equal([]);
    },
    close: () => producer.disconnect(),
  };
}
