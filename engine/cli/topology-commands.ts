import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Command, Option } from 'commander';
import { configureLogging, createLogger, logFormat, type LogFormat } from '../observability/logger.ts';
import type { Instance } from '../runtime/launch.ts';
import { resetApplication } from '../runtime/reset.ts';
import { streamThreadRole } from '../runtime/threads/thread-role.ts';
import { describeJson, describeMermaid, describeText } from '../topology/describe.ts';
import { localBrokerAddress } from './connection.ts';
import { restoreProgressBar } from './progress-bar.ts';
import { resetText } from './reset-report.ts';
import { resolveRunOptions, type RunFlags } from './run-config.ts';
import { startupSummary, summaryText } from './startup-summary.ts';
import { compileTopologyFile, createApplication, loadTopologyFile } from './topology-file.ts';

/** `sluice run <file>`: runs a topology until SIGTERM or SIGINT. */
export function runCommand(): Command {
  return new Command('run')
    .description('run a topology file as one instance of its application')
    .argument('<topology-file>', 'a .ts or .js module whose default export is defineApplication(...)')
    .option('--bootstrap-servers <servers>', 'Kafka bootstrap servers (default: KAFKA_BOOTSTRAP_SERVERS, else the local broker)')
    .option('--application-id <id>', "the application id (default: the topology file's)")
    .addOption(new Option('--guarantee <guarantee>', 'processing guarantee').choices(['at_least_once', 'exactly_once']))
    .option('--state-dir <dir>', 'where local state lives (default: SLUICE_STATE_DIR, else <tmp>/sluice-state)')
    .option('--http-port <port>', 'serve interactive queries, metadata, health and metrics on this port (0: any free port)')
    .option('--http-host <address>', 'address the query server binds (default 127.0.0.1; any other needs SLUICE_HTTP_TOKEN)')
    .option('--http-advertised-url <url>', 'the URL other instances reach this one at (default http://<host>:<port>)')
    .option('--http-allowed-hosts <names>', 'comma-separated Host header names to accept besides loopback and the advertised host')
    .option('--config <file>', 'a JSON file with bootstrapServers, applicationId, guarantee, commitIntervalMs, stateDir, kafka, http')
    .option('--instance-name <name>', 'a name this instance keeps across restarts (also SLUICE_INSTANCE_NAME): a static member of the group, which a restart within the session timeout does not rebalance')
    .option('--num-stream-threads <n>', 'run this many stream threads (processes, each a member of the group) behind one query server (default 1)')
    .option('--shutdown-timeout-ms <ms>', 'how long a shutdown may take before it gives up on what is not committed (default 30000)')
    .addOption(new Option('--log-format <format>', 'log lines as JSON, or readable (default: pretty when standard error is a terminal, else json; also SLUICE_LOG_FORMAT)').choices(['json', 'pretty']))
    .action(async (file: string, flags: RunFlags & { logFormat?: LogFormat }) => {
      // Signals are handled from the start: one while the topology file loads ends the process at
      // once (nothing has started); one during a long restoration or warm-up closes it cleanly.
      let app: Instance | undefined = undefined;
      let signals = 0;
      const shutdown = (signal: string) => {
        if (app === undefined) process.exit(0);
        if (++signals > 1) process.exit(130); // a second signal: stop now
        process.stderr.write(`${signal}: finishing the batch in flight, committing and leaving the group (at most ${(options.shutdownTimeoutMs ?? 30_000) / 1000} s)...\n`);
        void app.close();
      };
      process.on('SIGTERM', () => shutdown('SIGTERM'));
      process.on('SIGINT', () => shutdown('SIGINT'));
      if (flags.logFormat) configureLogging({ format: flags.logFormat });
      const definition = await loadTopologyFile(file);
      const options = resolveRunOptions(flags);
      options.bootstrapServers ??= await localBrokerAddress();
      options.onRestoreProgress = restoreProgressBar(process.stderr);
      app = createApplication(file, definition, options);
      await app.start();
      // A stream thread's instance gives the summary, and a start a signal cut short gives none.
      if (!streamThreadRole() && signals === 0) {
        const summary = startupSummary(app.topology, options.guarantee ?? definition.guarantee ?? 'at_least_once', app.endpoint);
        if (logFormat() === 'pretty') process.stderr.write(summaryText(summary));
        else createLogger().info(summary, 'application started');
      }
      try {
        await app.finished;
      } finally {
        // Once it has finished nothing is left to do: connections that other instances and clients
        // keep open to its query server, or clients that could not close (brokers away), must not
        // keep the process, and a restart, waiting. The exit code is set by then (runCli).
        setImmediate(() => process.exit());
      }
    });
}

/** `sluice describe <file>`: prints the compiled topology. */
export function describeCommand(): Command {
  return new Command('describe')
    .description('print the sub-topologies, nodes, stores and internal topics of a topology file')
    .argument('<topology-file>')
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'json', 'mermaid']).default('text'))
    .option('--application-id <id>', "the application id (default: the topology file's)")
    .action(async (file: string, flags: { format: 'text' | 'json' | 'mermaid'; applicationId?: string }) => {
      const definition = await loadTopologyFile(file);
      const topology = compileTopologyFile(file, definition, flags.applicationId);
      const output =
        flags.format === 'json'
          ? JSON.stringify(describeJson(topology), null, 2) + '\n'
          : flags.format === 'mermaid'
            ? describeMermaid(topology)
            : describeText(topology);
      process.stdout.write(output);
    });
}

/** `sluice reset <file>`: lets the application start over from the earliest records. */
export function resetCommand(): Command {
  return new Command('reset')
    .description(
      "reset an application: forget its committed offsets, delete its internal topics and this machine's local state for it (stop every instance first; run it on every machine that had state)",
    )
    .argument('<topology-file>')
    .option('--bootstrap-servers <servers>', 'Kafka bootstrap servers (default: KAFKA_BOOTSTRAP_SERVERS, else the local broker)')
    .option('--application-id <id>', "the application id (default: the topology file's)")
    .option('--state-dir <dir>', 'where local state lives (default: SLUICE_STATE_DIR, else <tmp>/sluice-state)')
    .option('--output-topics <topics>', 'also delete these output topics (comma-separated; by default output topics are left as they are)')
    .action(async (file: string, flags: { bootstrapServers?: string; applicationId?: string; stateDir?: string; outputTopics?: string }) => {
      const definition = await loadTopologyFile(file);
      const topology = compileTopologyFile(file, definition, flags.applicationId);
      const bootstrapServers = flags.bootstrapServers ?? process.env.KAFKA_BOOTSTRAP_SERVERS ?? (await localBrokerAddress());
      const outputTopics = (flags.outputTopics ?? '').split(',').map((t) => t.trim()).filter(Boolean);
      const report = await resetApplication(topology, { bootstrapServers, properties: definition.kafka }, { outputTopics });
      // Local state of the old run would only be wiped at the next start (its checkpoints are
      // ahead of the new, empty changelogs); deleting it now frees the disk and says so.
      const local = path.join(path.resolve(flags.stateDir ?? process.env.SLUICE_STATE_DIR ?? path.join(os.tmpdir(), 'sluice-state')), topology.applicationId);
      const hadState = fs.existsSync(local);
      fs.rmSync(local, { recursive: true, force: true });
      process.stdout.write(resetText(report, hadState ? local : undefined));
    });
}
