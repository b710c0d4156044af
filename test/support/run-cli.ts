import { spawn, spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The compiled `dke` entry point beside the compiled tests (in the build-test folder, src/cli.js). */
export const CLI_PATH = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'cli.js');

/** The same program with the test build's fault point (DKE_FAULT_KILL_AFTER, see ./cli-with-faults.ts). */
export const CLI_WITH_FAULTS_PATH = join(dirname(fileURLToPath(import.meta.url)), 'cli-with-faults.js');

export interface CliResult {
  readonly status: number | null;
  /** The signal that ended the process, if one did (a command killed at a fault point). */
  readonly signal?: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs the real `dke` command as an operator would, in a separate process, against the given environment (`entry`:
 * CLI_WITH_FAULTS_PATH for a command that must die at a fault point).
 */
export function runCli(args: readonly string[], env: NodeJS.ProcessEnv, cwd?: string, entry: string = CLI_PATH): CliResult {
  const result = spawnSync(process.execPath, [entry, ...args], { env, cwd, encoding: 'utf8', timeout: 60_000 });
  return { status: result.status, signal: result.signal, stdout: result.stdout, stderr: result.stderr };
}

/**
 * As runCli, without blocking this process: for commands that talk to a server running inside the test process
 * (`dke doctor` against an in-process deployment), which a synchronous spawn would freeze.
 */
export function runCliAsync(args: readonly string[], env: NodeJS.ProcessEnv, entry = CLI_PATH): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [entry, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.once('error', reject);
    child.once('close', (status, signal) => resolve({ status, signal, stdout, stderr }));
  });
}
