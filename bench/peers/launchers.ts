/**
 * How the harness starts each benchmarked system, and how it installs what a peer needs first.
 *
 * The project's own systems are TypeScript files in bench/systems run by Node. The peers bring
 * their own toolchains, installed on demand (only when a run asks for that system) into the
 * scratch directory (bench/peers/home.ts), never into the project:
 * - `kafka-streams`: the Java application in bench/systems/kafka-streams, built by Maven;
 * - `quix-streams`: bench/systems/quix_streams_app.py in a virtualenv with quixstreams;
 * - `kafkats-flow`, `kafka-streams-npm`: TypeScript files in bench/systems whose npm packages
 *   live in a package directory of their own.
 * A peer whose install fails is reported as skipped with the reason, not dropped silently.
 * The service async-enrich calls (bench/systems/enrich-service, in Go) is built the same way.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { nodePeersDir, peersHome } from './home.ts';

const SYSTEMS_DIR = path.resolve(import.meta.dirname, '..', 'systems');
const KAFKA_STREAMS_DIR = path.join(SYSTEMS_DIR, 'kafka-streams');

/** Pinned so that a rerun measures the same code. */
export const PEER_VERSIONS = {
  quixstreams: '3.28.1',
  '@kafkats/flow': '0.12.0',
  '@kafkats/client': '0.12.0',
  'kafka-streams': '5.0.0',
} as const;

/** The peers, in the order results list them, after `raw-client` and `sluice`. */
export const PEERS = ['kafka-streams', 'quix-streams', 'kafkats-flow', 'kafka-streams-npm'] as const;

export interface Launch {
  command: string;
  args: string[];
}

interface Launcher {
  /** Installs or builds what the system needs; throws with the reason when it cannot. */
  prepare?: (say: (line: string) => void) => Promise<void>;
  launch: () => Launch;
  /** Whether its outputs carry the input records' timestamps, which open-loop latency needs. */
  carriesTimestamps: boolean;
  /** What is known to stop it, added to the reason when it fails (the cause may show only in the broker's log). */
  knownIssue?: string;
}

function nodeScript(script: string): Launch {
  // BENCH_PROFILE=<dir> writes a V8 CPU profile of each run of a Node system there.
  const profile = process.env.BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${path.join(process.env.BENCH_PROFILE, script)}`] : [];
  return { command: process.execPath, args: [...profile, '--import', 'tsx', path.join(SYSTEMS_DIR, `${script}.ts`)] };
}

/** Runs a command to its end; throws with the tail of its output when it fails. */
async function run(command: string, args: string[], cwd: string): Promise<void> {
  const child = spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000));
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', resolve);
  });
  if (code !== 0) throw new Error(`\`${command} ${args.join(' ')}\` failed (exit ${code}): ${output.trim().split('\n').slice(-8).join(' | ')}`);
}

function onPath(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

const KAFKA_STREAMS: Launcher = {
  carriesTimestamps: true,
  async prepare(say) {
    if (!onPath('mvn') || !onPath('java')) throw new Error('Maven and a JDK (mvn, java) are needed to build the Kafka Streams application');
    say('  building the Kafka Streams application (mvn package)...');
    // Maven's incremental build makes this quick when nothing changed.
    await run('mvn', ['-q', '-B', 'package'], KAFKA_STREAMS_DIR);
  },
  launch: () => ({
    command: 'java',
    args: ['-Dorg.slf4j.simpleLogger.defaultLogLevel=warn', '-cp', `${path.join(KAFKA_STREAMS_DIR, 'target', 'classes')}:${path.join(KAFKA_STREAMS_DIR, 'target', 'lib', '*')}`, 'sluice.bench.BenchApp'],
  }),
};

const ENRICH_SERVICE_DIR = path.join(SYSTEMS_DIR, 'enrich-service');
const enrichServiceBinary = () => path.join(peersHome(), 'enrich-service');

/** The service async-enrich calls: a Go program, built into the scratch directory (Go's build cache makes a rebuild quick). */
const ENRICH_SERVICE: Launcher = {
  carriesTimestamps: false,
  async prepare(say) {
    if (!onPath('go')) throw new Error('Go (the go command) is needed to build the enrichment service of async-enrich');
    say('  building the enrichment service (go build)...');
    fs.mkdirSync(peersHome(), { recursive: true });
    await run('go', ['build', '-o', enrichServiceBinary(), '.'], ENRICH_SERVICE_DIR);
  },
  launch: () => ({ command: enrichServiceBinary(), args: [] }),
};

const venvPython = () => path.join(peersHome(), 'venv', 'bin', 'python');

const QUIX_STREAMS: Launcher = {
  carriesTimestamps: true,
  async prepare(say) {
    const venv = path.join(peersHome(), 'venv');
    const installed = () => spawnSync(venvPython(), ['-c', 'import importlib.metadata as m; print(m.version("quixstreams"))'], { encoding: 'utf8' }).stdout?.trim();
    if (fs.existsSync(venvPython()) && installed() === PEER_VERSIONS.quixstreams) return;
    if (!onPath('python3')) throw new Error('python3 is needed for Quix Streams');
    say(`  installing quixstreams ${PEER_VERSIONS.quixstreams} into ${path.relative(process.cwd(), venv)} (pip)...`);
    fs.mkdirSync(peersHome(), { recursive: true });
    if (!fs.existsSync(venvPython())) await run('python3', ['-m', 'venv', venv], peersHome());
    await run(venvPython(), ['-m', 'pip', 'install', '-q', `quixstreams==${PEER_VERSIONS.quixstreams}`], peersHome());
  },
  launch: () => ({ command: venvPython(), args: [path.join(SYSTEMS_DIR, 'quix_streams_app.py')] }),
};

/** Installs the Node peers' packages in their own directory when its package.json changed. */
async function prepareNodePeers(say: (line: string) => void): Promise<void> {
  const dir = nodePeersDir();
  const manifest = JSON.stringify(
    {
      name: 'sluice-bench-node-peers',
      private: true,
      type: 'module',
      dependencies: { '@kafkats/flow': PEER_VERSIONS['@kafkats/flow'], '@kafkats/client': PEER_VERSIONS['@kafkats/client'], 'kafka-streams': PEER_VERSIONS['kafka-streams'] },
    },
    null,
    2,
  );
  const stamp = path.join(dir, 'node_modules', '.installed-manifest.json');
  if (fs.existsSync(stamp) && fs.readFileSync(stamp, 'utf8') === manifest) return;
  say(`  installing the Node peers' packages into ${path.relative(process.cwd(), dir)} (npm install)...`);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'package.json'), manifest + '\n');
  await run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], dir);
  fs.writeFileSync(stamp, manifest);
}

const LAUNCHERS: Record<string, Launcher> = {
  'enrich-service': ENRICH_SERVICE,
  'kafka-streams': KAFKA_STREAMS,
  'quix-streams': QUIX_STREAMS,
  // @kafkats/flow writes its outputs without a timestamp, so the producer stamps its own time.
  'kafkats-flow': { carriesTimestamps: false, prepare: prepareNodePeers, launch: () => nodeScript('kafkats-flow') },
  'kafka-streams-npm': {
    carriesTimestamps: false,
    prepare: prepareNodePeers,
    launch: () => nodeScript('kafka-streams-npm'),
    knownIssue:
      'its JavaScript client (kafka-node 5, through sinek 9) speaks protocol versions Kafka 4.0 removed: the broker logs ' +
      '"UnsupportedVersionException: Received request for api with key 2 (ListOffsets) and unsupported version 0" and closes the connection; ' +
      'its other client mode needs node-rdkafka 2.7.4, which its README says works only on Node.js 12 or older',
  },
};

export function isPeer(system: string): boolean {
  return (PEERS as readonly string[]).includes(system);
}

/** The launcher of a system; any other name is a Node script in bench/systems. */
function launcherOf(script: string): Launcher {
  return LAUNCHERS[script] ?? { carriesTimestamps: true, launch: () => nodeScript(script) };
}

const prepared = new Map<string, Promise<void>>();

/** Prepares a system once per harness run; a failure is remembered and rethrown. */
export function prepareSystem(script: string, say: (line: string) => void): Promise<void> {
  const launcher = launcherOf(script);
  let done = prepared.get(script);
  if (!done) {
    done = launcher.prepare ? launcher.prepare(say) : Promise.resolve();
    prepared.set(script, done);
  }
  return done;
}

export function launchOf(script: string): Launch {
  return launcherOf(script).launch();
}

export function knownIssue(script: string): string | undefined {
  return launcherOf(script).knownIssue;
}

export function carriesTimestamps(script: string): boolean {
  return launcherOf(script).carriesTimestamps;
}
