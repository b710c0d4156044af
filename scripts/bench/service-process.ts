import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { productionNodeFlags } from './production-node-flags.js';

export interface ServiceProcess {
  readonly url: string;
  readonly pid: number;
  /** Resident memory now, in bytes. */
  rssBytes(): number;
  stop(): Promise<number | null>;
}

export interface ServiceProcessOptions {
  /** Arguments for node before the script (e.g. --cpu-prof). */
  readonly nodeArgs?: readonly string[];
  /** The checkout whose dist/cli.js to run (default: this one). */
  readonly cwd?: string;
}

/** Linux's clock tick for /proc/<pid>/stat times (USER_HZ, 100 on every mainstream architecture). */
const CLOCK_TICKS_PER_SECOND = 100;

/**
 * Starts the built service (`node [production's flags] dist/cli.js serve`) as its own process, as production runs
 * it, and waits for its "listening" log line and a 200 from /health/ready.
 */
export async function startServiceProcess(env: NodeJS.ProcessEnv, options: ServiceProcessOptions = {}): Promise<ServiceProcess> {
  // Under the profiler, tsc's unbundled entry (kept beside the bundle by scripts/bundle-libraries.mjs): the same code,
  // but each sample keeps its module's path, which the per-part breakdown (cost-breakdown.ts) sorts by. The bundle
  // differs only in how the modules load at start, which the breakdown leaves out.
  const profiled = options.nodeArgs?.some((arg) => arg.startsWith('--cpu-prof')) === true;
  const entry = profiled ? 'dist/cli.unbundled.js' : 'dist/cli.js';
  // The log lines go to a file, as a container runtime or journald would take them: read by the bench process they
  // would cost the load generator, which runs in it, a pipe read per request that the floors (which log nothing) do
  // not cost it. The service still writes every line (pino, asynchronously, as in production).
  const logDir = mkdtempSync(join(tmpdir(), 'dke-bench-log-'));
  const logFile = join(logDir, 'stdout.jsonl');
  const logFd = openSync(logFile, 'w');
  const child: ChildProcess = spawn(process.execPath, [...productionNodeFlags(options.cwd), ...(options.nodeArgs ?? []), entry, 'serve'], {
    env: { ...env, DKE_PORT: '0', DKE_HOST: '127.0.0.1' },
    ...(options.cwd !== undefined ? { cwd: options.cwd } : {}),
    stdio: ['ignore', logFd, 'pipe'],
  });
  closeSync(logFd);
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  let exited: number | null | undefined;
  child.once('exit', (code) => {
    exited = code;
  });
  let url: string | undefined;
  while (url === undefined) {
    if (exited !== undefined) throw new Error(`the service exited with ${exited}: ${stderr}`);
    const listening = readFileSync(logFile, 'utf8').split('\n').find((line) => line.includes('"listening"'));
    if (listening !== undefined) url = (JSON.parse(listening) as { url: string }).url.replace('localhost', '127.0.0.1');
    else await new Promise((r) => setTimeout(r, 50));
  }
  for (let i = 0; i < 100; i += 1) {
    const res = await fetch(`${url}/health/ready`).catch(() => undefined);
    if (res?.status === 200) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const pid = child.pid!;
  return {
    url,
    pid,
    rssBytes: () => processRssBytes(pid),
    stop: () =>
      new Promise((resolve) => {
        child.once('exit', (code) => {
          rmSync(logDir, { recursive: true, force: true });
          resolve(code);
        });
        child.kill('SIGTERM');
      }),
  };
}

/** utime + stime of /proc/<pid>/stat (fields 14 and 15, counted after the parenthesised command name). */
export function processCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
}

export function processRssBytes(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match === null ? Number.NaN : Number(match[1]) * 1024;
}

/** CPU seconds of the process's main thread (its event loop: the service's own per-request work). */
export function mainThreadCpuSeconds(pid: number): number {
  return threadCpuSeconds(pid, pid);
}

function threadCpuSeconds(pid: number, tid: number): number {
  const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
}
