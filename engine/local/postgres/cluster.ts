import fs from 'node:fs';
import path from 'node:path';
import { LocalPostgresError } from '../../errors.ts';
import { isAlive } from '../process-control.ts';
import { runProgram, tail } from '../run-program.ts';
import { HOST, SUPERUSER } from './connection.ts';
import { type Binaries, chown, type Owner, SYSTEM_USER, writeOwned } from './installation.ts';

/** sun_path is 108 bytes on Linux, 104 on macOS: past this, the server listens on TCP only. */
const MAX_SOCKET_PATH = 100;

/** Where one cluster lives: `dir` holds its `data/` (the cluster itself) and `run/` (its socket). */
export interface ClusterFolders {
  dir: string;
  dataDir: string;
  socketDir: string;
}

/**
 * `initdb` once, into a scratch folder renamed into place, so a half-made cluster is never used:
 * superuser `postgres`, UTF8, locale C, trust authentication on loopback only. A cluster that
 * exists is handed to the owner if it changed.
 */
export async function initialiseCluster(folders: ClusterFolders, binaries: Binaries, owner: Owner, progress: (line: string) => void): Promise<void> {
  const { dir, dataDir } = folders;
  if (fs.existsSync(path.join(dataDir, 'PG_VERSION'))) {
    if (owner.uid !== undefined && fs.statSync(dataDir).uid !== owner.uid) {
      await runProgram(['chown', '-R', `${owner.uid}:${owner.gid}`, dataDir]);
    }
    return;
  }
  progress(`Creating a PostgreSQL ${binaries.major} cluster in ${dataDir} (first start only)...`);
  const scratch = `${dataDir}.init-${process.pid}`;
  for (const entry of fs.readdirSync(dir)) {
    const pid = /^data\.init-(\d+)$/.exec(entry)?.[1];
    if (pid && (Number(pid) === process.pid || !isAlive(Number(pid)))) fs.rmSync(path.join(dir, entry), { recursive: true, force: true });
  }
  fs.mkdirSync(scratch, { mode: 0o700 });
  chown(scratch, owner);
  if (owner.uid !== undefined) {
    // The server must reach its data through every parent folder.
    const access = await runProgram([...owner.prefix, 'test', '-w', scratch]);
    if (access.code !== 0) {
      fs.rmSync(scratch, { recursive: true, force: true });
      throw new LocalPostgresError(
        `PostgreSQL runs as the '${SYSTEM_USER}' system user here (it refuses to run as root), and that user cannot reach ${dir}: ` +
          `a parent folder is not searchable by others. Set SLUICE_HOME to a folder it can reach, or give the parents o+x.`,
      );
    }
  }
  const result = await runProgram([
    ...owner.prefix,
    path.join(binaries.dir, 'initdb'),
    '-D', scratch,
    '-U', SUPERUSER,
    '--auth=trust',
    '--encoding=UTF8',
    '--locale=C',
    '--no-sync',
    '--no-instructions',
  ]);
  if (result.code !== 0) {
    fs.rmSync(scratch, { recursive: true, force: true });
    throw new LocalPostgresError(`initdb failed (exit ${result.code}):\n${tail(result.text, 20)}`);
  }
  // Trust on loopback only: no line for any other address, so everything else is refused.
  writeOwned(
    path.join(scratch, 'pg_hba.conf'),
    '# Written by Sluice: a development cluster, trusted on loopback only.\n' +
      '# TYPE  DATABASE  USER  ADDRESS       METHOD\n' +
      'local   all       all                 trust\n' +
      'host    all       all   127.0.0.1/32  trust\n' +
      'host    all       all   ::1/128       trust\n' +
      'local   replication all               trust\n' +
      'host    replication all 127.0.0.1/32  trust\n',
    owner,
  );
  fs.appendFileSync(path.join(scratch, 'postgresql.conf'), "\n# Sluice's settings (port, addresses), rewritten at every start.\ninclude_if_exists = 'sluice.conf'\n");
  try {
    fs.renameSync(scratch, dataDir);
  } catch (err) {
    // Another process made the cluster meanwhile: use that one.
    fs.rmSync(scratch, { recursive: true, force: true });
    if (!fs.existsSync(path.join(dataDir, 'PG_VERSION'))) throw err;
  }
}

/** The settings that may change between starts, in the cluster's `sluice.conf`: the port and where the socket lives. */
export function writeClusterConfig(folders: ClusterFolders, port: number, owner: Owner, progress: (line: string) => void): void {
  let socketDir = folders.socketDir;
  if (path.join(socketDir, `.s.PGSQL.${port}`).length > MAX_SOCKET_PATH) {
    progress(`${socketDir} is too long a path for a Unix socket; PostgreSQL listens on TCP only.`);
    socketDir = '';
  } else {
    fs.mkdirSync(socketDir, { recursive: true, mode: 0o700 });
    chown(socketDir, owner);
  }
  writeOwned(
    path.join(folders.dataDir, 'sluice.conf'),
    [
      '# Written by Sluice at every start of the local cluster; edits are lost.',
      `listen_addresses = '${HOST}'`,
      `port = ${port}`,
      `unix_socket_directories = '${socketDir.replaceAll("'", "''")}'`,
      'unix_socket_permissions = 0700',
      "timezone = 'UTC'",
      '',
    ].join('\n'),
    owner,
  );
}
