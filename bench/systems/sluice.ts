/** Sluice running the `stateless` workload: the same map + filter, as a topology. */
import { Application } from '../../engine/runtime/application.ts';
import { defineApplication } from '../../engine/runtime/definition.ts';
import { createLogger } from '../../engine/observability/logger.ts';
import { Serdes } from '../../engine/serde/serde.ts';
import { enrich, keep, type StatelessEvent } from '../workloads/stateless.ts';
import { announceReady, settingsFromEnv, trackMemory } from './protocol.ts';

const settings = settingsFromEnv();
const memory = trackMemory();

const app = Application.create(
  defineApplication({
    applicationId: settings.group,
    keySerde: Serdes.bytes(),
    valueSerde: Serdes.json(),
    commitIntervalMs: settings.commitIntervalMs,
    topology: (builder) =>
      builder
        .stream<Buffer, StatelessEvent>(settings.input)
        .filter((_, event) => keep(event))
        .mapValues(enrich)
        .to(settings.output),
  }),
  { bootstrapServers: settings.bootstrapServers, logger: createLogger({}, 'warn') },
);
app.lifecycle.onChange((to) => {
  if (to === 'RUNNING' && app.taskIds().length > 0) announceReady();
});
process.on('SIGTERM', () => void app.close());
await app.start();
await app.finished;
memory.report();
process.exit(0);
