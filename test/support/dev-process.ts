import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI_PATH } from './run-cli.js';
import { until } from './until.js';

/** A loopback port nothing listens on now (the caller binds it next; tests that print URLs need it known first). */
export async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', () => resolve()));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

export interface DevProcess {
  readonly child: ChildProcess;
  /** Its DKE_DATA_DIR, in a temporary folder of its own. */
  readonly dataDir: string;
  /** Its DKE_PORT; the admin listener takes any free port (DKE_ADMIN_PORT=0) so that tests cannot collide. */
  readonly port: number;
  /** What `dke dev` printed so far. */
  stdout(): string;
  /** SIGTERM, waits for the exit, removes the temporary folder. */
  stop(): Promise<void>;
}

/**
 * The real `dke dev ARGS` as a process, once it has printed its instructions (or exited), with no DKE_ setting of this
 * environment but its own data folder and ports: it must configure authentication itself.
 */
export async function startDev(args: readonly string[]): Promise<DevProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'dke-dev-'));
  const port = await freePort();
  const settings = { DKE_DATA_DIR: join(dir, 'data'), DKE_PORT: String(port), DKE_ADMIN_PORT: '0', DKE_LOG_LEVEL: 'warn' };
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('DKE_') && name !== 'NODE_EXTRA_CA_CERTS'));
  const child = spawn(process.execPath, [CLI_PATH, 'dev', ...args], { env: { ...env, ...settings }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  await until(() => stdout.includes('Stop with Ctrl+C') || child.exitCode !== null, 'dke dev to print its instructions', 45_000);
  return {
    child,
    dataDir: settings.DKE_DATA_DIR,
    port,
    stdout: () => stdout,
    stop: async () => {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Whether a TCP connection to address:port is accepted (`connected`), or the error code that refused it. */
export function tcpAnswer(address: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host: address, port });
    socket.setTimeout(5_000, () => socket.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })));
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });
}
