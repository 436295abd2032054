import { randomUUID } from 'node:crypto';
import { Command } from 'commander';
import { KafkaAdmin } from '../kafka/admin.ts';
import { KafkaConsumer } from '../kafka/consumer.ts';
import { LocalBroker } from '../kafka/local-broker/local-broker.ts';
import { KafkaProducer } from '../kafka/producer.ts';

const INPUT = 'demo-orders';
const OUTPUT = 'demo-orders-priced';
const ORDERS = 30;

/**
 * `sluice demo`: starts the local broker (unless KAFKA_BOOTSTRAP_SERVERS names one), writes a
 * few orders, runs them through a consume → transform → produce pipeline with at-least-once
 * commits, and prints what flows.
 */
export function demoCommand(): Command {
  return new Command('demo')
    .description('run the demo pipeline on the local broker (or KAFKA_BOOTSTRAP_SERVERS)')
    .option('--orders <n>', 'how many orders to generate', (v) => Number(v), ORDERS)
    .action(async (options: { orders: number }) => runDemo(options.orders));
}

async function runDemo(orders: number): Promise<void> {
  const say = (line: string) => process.stdout.write(line + '\n');
  const bootstrapServers =
    process.env.KAFKA_BOOTSTRAP_SERVERS ??
    (await new LocalBroker({ progress: (line) => say(`[broker] ${line}`) }).start()).address;
  say(`Sluice demo on Kafka at ${bootstrapServers}`);
  say(`Pipeline: ${INPUT} (JSON orders) -> price each order -> ${OUTPUT}, keyed by customer, at-least-once.`);

  const admin = KafkaAdmin.connect({ bootstrapServers });
  await admin.createTopics([
    { name: INPUT, partitions: 3 },
    { name: OUTPUT, partitions: 3 },
  ]);
  admin.disconnect();

  const run = randomUUID().slice(0, 8);
  const producer = await KafkaProducer.connect({ bootstrapServers });
  await producer.loadPartitionCounts([INPUT, OUTPUT]);
  for (let i = 0; i < orders; i++) {
    const customer = `customer-${i % 5}`;
    const order = { run, order_id: `${run}-${i}`, customer, quantity: 1 + (i % 4), unit_price: 2.5 + (i % 3) };
    producer.send({ topic: INPUT, key: Buffer.from(customer), value: Buffer.from(JSON.stringify(order)) });
  }
  await producer.flush();
  say(`Generated ${orders} orders for 5 customers (run ${run}).`);

  const consumer = await KafkaConsumer.connect({ bootstrapServers, groupId: 'sluice-demo' });
  consumer.subscribe([INPUT]);
  let seen = 0;
  const deadline = Date.now() + 60_000;
  while (seen < orders && Date.now() < deadline) {
    const batch = await consumer.consume(500, 250);
    const positions = new Map<string, { topic: string; partition: number; offset: number }>();
    for (const record of batch) {
      positions.set(`${record.topic}/${record.partition}`, { topic: record.topic, partition: record.partition, offset: record.offset + 1 });
      const order = JSON.parse(record.value!.toString());
      if (order.run !== run) continue; // left over from an earlier run
      const priced = { ...order, total: order.quantity * order.unit_price };
      producer.send({ topic: OUTPUT, key: record.key, value: Buffer.from(JSON.stringify(priced)) });
      say(`  ${INPUT}[${record.partition}]@${record.offset}  ${order.customer}  ${order.order_id}  ${order.quantity} x ${order.unit_price} = ${priced.total}`);
      seen++;
    }
    // At-least-once: outputs acknowledged first, offsets committed after.
    await producer.flush();
    await consumer.commit([...positions.values()]);
  }
  await consumer.disconnect();
  await producer.disconnect();
  say(seen === orders ? `Priced ${seen} orders into ${OUTPUT}; offsets committed. Done.` : `Only ${seen} of ${orders} orders arrived in time.`);
  if (seen !== orders) process.exitCode = 1;
}
