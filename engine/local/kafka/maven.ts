import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { LocalBrokerError } from '../../errors.ts';
import { runProgram, tail } from '../run-program.ts';
import { requireMaven } from './prerequisites.ts';

const STAMP = '.resolved';

/** The Kafka version the pom resolves. */
export function kafkaVersion(pomFile: string): string {
  const match = /<kafka\.version>([^<]+)<\/kafka\.version>/.exec(fs.readFileSync(pomFile, 'utf8'));
  if (!match) throw new LocalBrokerError(`${pomFile} does not declare <kafka.version>.`);
  return match[1]!;
}

/** True when `libDir` holds the jars of exactly this pom. */
export function jarsResolved(pomFile: string, libDir: string): boolean {
  try {
    return fs.readFileSync(path.join(libDir, STAMP), 'utf8') === pomDigest(pomFile);
  } catch {
    return false;
  }
}

/**
 * Copies the broker artifact and its runtime dependencies from Maven Central into `libDir`.
 * Done once per pom: a stamp file records which pom the folder was resolved from. The folder is
 * filled under a temporary name and renamed, so an interrupted download is never mistaken for a
 * complete one.
 */
export async function resolveJars(pomFile: string, libDir: string): Promise<void> {
  if (jarsResolved(pomFile, libDir)) return;
  requireMaven();
  const staging = `${libDir}.partial-${process.pid}`;
  fs.rmSync(staging, { recursive: true, force: true });
  fs.mkdirSync(path.dirname(libDir), { recursive: true });
  const output = await runProgram([
    'mvn',
    '-B',
    '-q',
    '-f',
    pomFile,
    'dependency:copy-dependencies',
    `-DoutputDirectory=${staging}`,
    '-DincludeScope=runtime',
  ]);
  if (output.code !== 0 || !fs.existsSync(staging)) {
    fs.rmSync(staging, { recursive: true, force: true });
    throw new LocalBrokerError(
      `Maven could not resolve the Kafka broker from Maven Central (exit ${output.code}). ` +
        'Check that Maven Central is reachable (and any proxy in ~/.m2/settings.xml). Maven said:\n' +
        tail(output.text, 25),
    );
  }
  fs.writeFileSync(path.join(staging, STAMP), pomDigest(pomFile));
  fs.rmSync(libDir, { recursive: true, force: true });
  fs.renameSync(staging, libDir);
}

function pomDigest(pomFile: string): string {
  return createHash('sha256').update(fs.readFileSync(pomFile)).digest('hex');
}
