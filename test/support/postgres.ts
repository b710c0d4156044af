import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

/**
 * The one throwaway PostgreSQL server of a test process (scripts/pg-throwaway.sh: Debian's server binaries, trust auth
 * on 127.0.0.1, a free port, a temporary directory): of the run, or of one worker of a parallel run. It starts when the
 * first test asks for a database, so processes that need none pay nothing; the root hooks stop it after the last test,
 * failed or not, and a process exit stops it too (a parallel worker's server stops only so, after the worker's last
 * file: one server per worker, not one per file).
 */

const run = promisify(execFile);

/** scripts/ beside the build folder (build-test…/test/support → the checkout's root). */
const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'scripts', 'pg-throwaway.sh');

interface Server {
  readonly dir: string;
  /** postgres://postgres@127.0.0.1:PORT (no database). */
  readonly base: string;
}

let starting: Promise<Server> | undefined;
/** The server's directory from the moment it is created until the server is stopped and the directory removed. */
let serverDir: string | undefined;
let databases = 0;

async function script(...args: string[]): Promise<string> {
  const { stdout } = await run('bash', [SCRIPT, ...args], { encoding: 'utf8', timeout: 60_000 });
  return stdout.trim();
}

function server(): Promise<Server> {
  starting ??= (async () => {
    // Under /tmp: as root the server runs as `postgres`, which cannot enter a directory below /root.
    const dir = mkdtempSync(join('/tmp', 'dke-test-pg-'));
    serverDir = dir;
    process.once('exit', stopNow);
    // fsync off: the data is thrown away at the end, and durability is PostgreSQL's own tested promise.
    const url = await script('start', dir, '--no-fsync');
    return { dir, base: url.slice(0, url.lastIndexOf('/')) };
  })();
  return starting;
}

/**
 * A new, empty database on the run's server (started on first use), named after `label` plus a counter so that a
 * failure's leftovers are easy to attribute. Returns its postgres:// URL. Call it once per test file or suite.
 */
export async function freshPostgresDatabase(label = 'test'): Promise<string> {
  const { base } = await server();
  const name = `${label.toLowerCase().replace(/[^a-z0-9]+/g, '_').slice(0, 40)}_${process.pid}_${++databases}`;
  await run('psql', [`${base}/postgres`, '-Atqc', `CREATE DATABASE "${name}"`], { timeout: 30_000 });
  return `${base}/${name}`;
}

/** Stops the server, keeping its data: a database outage. Every database URL fails until resumePostgres. */
export async function suspendPostgres(): Promise<void> {
  await script('down', (await server()).dir);
}

/** Starts the server again on the same port, with the same databases. */
export async function resumePostgres(): Promise<void> {
  await script('up', (await server()).dir);
}

/** Stops the server and removes its directory (root hooks, after the last test). */
export async function stopPostgres(): Promise<void> {
  if (!starting) return;
  await starting.catch(() => undefined);
  const dir = serverDir;
  starting = undefined;
  serverDir = undefined;
  if (dir) await script('stop', dir);
}

/** The synchronous last resort when the process exits without the root hooks (a crash, a forced exit). */
function stopNow(): void {
  if (serverDir) spawnSync('bash', [SCRIPT, 'stop', serverDir], { timeout: 30_000 });
  serverDir = undefined;
}
