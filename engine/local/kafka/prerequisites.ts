import { spawnSync } from 'node:child_process';
import { MissingToolError } from '../../errors.ts';

const ESCAPE_HATCH =
  'Or point Sluice at an existing cluster with KAFKA_BOOTSTRAP_SERVERS=HOST:PORT (or --bootstrap-servers).';

/** Checks that Java 17+ is on the PATH; the Kafka 4 broker needs it. */
export function requireJava(): void {
  const result = spawnSync('java', ['-version'], { encoding: 'utf8' });
  if (result.error || result.status !== 0) {
    throw new MissingToolError(
      'java',
      'Java 17 or newer is needed to run the local Kafka broker, and `java` was not found on the PATH. ' +
        'Install it (Debian/Ubuntu: `apt-get install openjdk-17-jre-headless`; macOS: `brew install openjdk@17`). ' +
        ESCAPE_HATCH,
      { cause: result.error },
    );
  }
  const version = /version "(\d+)(?:\.(\d+))?/.exec(result.stderr + result.stdout);
  const major = version ? Number(version[1] === '1' ? version[2] : version[1]) : 0;
  if (major < 17) {
    throw new MissingToolError(
      'java',
      `The local Kafka broker needs Java 17 or newer; found Java ${major || 'of unknown version'}. ` +
        'Install a newer JDK and put it first on the PATH. ' +
        ESCAPE_HATCH,
    );
  }
}

/** Checks that Maven is on the PATH; it resolves the broker's jars from Maven Central. */
export function requireMaven(): void {
  const result = spawnSync('mvn', ['-v'], { encoding: 'utf8' });
  if (result.error || result.status !== 0) {
    throw new MissingToolError(
      'mvn',
      'Maven is needed once, to download the Kafka broker from Maven Central, and `mvn` was not found on the PATH. ' +
        'Install it (Debian/Ubuntu: `apt-get install maven`; macOS: `brew install maven`). ' +
        ESCAPE_HATCH,
      { cause: result.error },
    );
  }
}
