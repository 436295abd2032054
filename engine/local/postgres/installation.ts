import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { LocalPostgresError, MissingToolError } from '../../errors.ts';

/** The system user the server runs as when we are root (PostgreSQL refuses to run as root). */
export const SYSTEM_USER = 'postgres';

/** The server programs of one PostgreSQL installation. */
export interface Binaries {
  dir: string;
  major: string;
}

/** Who runs the server programs: ourselves, or (as root) the `postgres` system user. */
export interface Owner {
  /** Put before a command to run it as the owner; empty when that is us. */
  prefix: string[];
  /** Set only when we are root and files we make must change hands. */
  uid?: number;
  gid?: number;
}

/**
 * The server programs for the cluster in `dataDir`: those of the major it was made with when it
 * exists, else the highest installed; Debian's /usr/lib/postgresql/<major>/bin first, then the
 * PATH. Throws when `required` and none fit.
 */
export function findBinaries(dataDir: string, required: true): Binaries;
export function findBinaries(dataDir: string, required: false): Binaries | undefined;
export function findBinaries(dataDir: string, required: boolean): Binaries | undefined {
  const found = installedBinaries();
  const made = readText(path.join(dataDir, 'PG_VERSION'))?.trim();
  const pick = made ? found.find((b) => b.major === made) : found[0];
  if (pick || !required) return pick;
  if (made && found.length > 0) {
    throw new LocalPostgresError(
      `The cluster in ${dataDir} was made by PostgreSQL ${made}, whose server programs are not installed (found ${found.map((b) => b.major).join(', ')}). ` +
        `Install postgresql-${made}, or remove ${path.dirname(dataDir)} to make a new cluster.`,
    );
  }
  throw new MissingToolError(
    'postgres',
    "PostgreSQL's server programs (initdb, pg_ctl, postgres) were not found in /usr/lib/postgresql/<major>/bin or on the PATH. " +
      'Install them (Debian/Ubuntu: `apt-get install postgresql`; `bash scripts/setup.sh` does it), or set DATABASE_URL to a PostgreSQL database to use instead.',
  );
}

/** The version of the programs, e.g. `15.18`; the major alone if it cannot be read. */
export function serverVersion(binaries: Binaries): string {
  const out = spawnSync(path.join(binaries.dir, 'postgres'), ['--version'], { encoding: 'utf8' }).stdout ?? '';
  return /\) (\d+(?:\.\d+)*)/.exec(out)?.[1] ?? binaries.major;
}

/** Every installation with initdb, pg_ctl and postgres side by side, highest major first. */
function installedBinaries(): Binaries[] {
  const complete = (dir: string) => ['initdb', 'pg_ctl', 'postgres'].every((name) => fs.existsSync(path.join(dir, name)));
  const found: Binaries[] = [];
  const debian = '/usr/lib/postgresql';
  let majors: string[] = [];
  try {
    majors = fs.readdirSync(debian).sort((a, b) => Number.parseFloat(b) - Number.parseFloat(a));
  } catch {
    // Not Debian's layout.
  }
  for (const major of majors) {
    const dir = path.join(debian, major, 'bin');
    if (complete(dir)) found.push({ dir, major });
  }
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir || !complete(dir) || found.some((b) => b.dir === dir)) continue;
    const out = spawnSync(path.join(dir, 'postgres'), ['--version'], { encoding: 'utf8' }).stdout ?? '';
    const major = /\) (\d+)/.exec(out)?.[1];
    if (major) found.push({ dir, major });
  }
  return found;
}

/** Ourselves, unless we are root: then the `postgres` system user, through runuser or setpriv. */
export function serverOwner(): Owner {
  if (process.getuid?.() !== 0) return { prefix: [] };
  const account = lookupUser(SYSTEM_USER);
  if (!account) {
    throw new LocalPostgresError(
      `PostgreSQL refuses to run as root, and there is no '${SYSTEM_USER}' system user to run it as. ` +
        `Create one (Debian's postgresql package does: apt-get install postgresql), run Sluice as another user, or set DATABASE_URL.`,
    );
  }
  const prefix = onPath('runuser')
    ? ['runuser', '-u', SYSTEM_USER, '--']
    : onPath('setpriv')
      ? ['setpriv', `--reuid=${account.uid}`, `--regid=${account.gid}`, '--init-groups', '--']
      : undefined;
  if (!prefix) {
    throw new LocalPostgresError(`PostgreSQL refuses to run as root, and neither runuser nor setpriv (util-linux) is installed to run it as '${SYSTEM_USER}'.`);
  }
  return { prefix, uid: account.uid, gid: account.gid };
}

function lookupUser(name: string): { uid: number; gid: number } | undefined {
  const entry = spawnSync('getent', ['passwd', name], { encoding: 'utf8' }).stdout ?? readText('/etc/passwd') ?? '';
  const fields = entry.split('\n').find((line) => line.startsWith(`${name}:`))?.split(':');
  return fields ? { uid: Number(fields[2]), gid: Number(fields[3]) } : undefined;
}

function onPath(program: string): boolean {
  return (process.env.PATH ?? '').split(path.delimiter).some((dir) => dir && fs.existsSync(path.join(dir, program)));
}

/** Hands a file we made to the owner (only when we are root). */
export function chown(file: string, owner: Owner): void {
  if (owner.uid !== undefined && owner.gid !== undefined) fs.chownSync(file, owner.uid, owner.gid);
}

/** Writes a file only its owner may read. */
export function writeOwned(file: string, text: string, owner: Owner): void {
  fs.writeFileSync(file, text, { mode: 0o600 });
  chown(file, owner);
}

export function readText(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}
