// Root hook: every test talks to a real Kafka broker. Unless KAFKA_BOOTSTRAP_SERVERS names one,
// the local development broker is started (and stopped again at the end if this run started it).
import { LocalBroker } from '../../engine/kafka/local-broker/local-broker.ts';

let startedHere: LocalBroker | undefined;

export const mochaHooks = {
  async beforeAll(this: Mocha.Context): Promise<void> {
    if (process.env.KAFKA_BOOTSTRAP_SERVERS) return;
    this.timeout(300_000);
    const broker = new LocalBroker({ progress: (line) => process.stderr.write(`[broker] ${line}\n`) });
    const wasRunning = (await broker.status()).running;
    const { address } = await broker.start();
    process.env.KAFKA_BOOTSTRAP_SERVERS = address;
    if (!wasRunning && !process.env.SLUICE_KEEP_BROKER) startedHere = broker;
  },
  async afterAll(this: Mocha.Context): Promise<void> {
    this.timeout(60_000);
    await startedHere?.stop();
  },
};
