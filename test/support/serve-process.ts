import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface ServeProcess {
  readonly child: ChildProcess;
  /** Every stdout line so far (JSON log lines). */
  readonly lines: string[];
  /** The URL of the `listening` log line. */
  readonly url: string;
  /** SIGTERM, then waits for the exit code. */
  stop(): Promise<number | null>;
}

/** Starts `node <args>` (a `dke serve` entry) and resolves once it logs `listening`; rejects if it exits first. */
export async function startServeProcess(args: readonly string[], env: NodeJS.ProcessEnv, cwd?: string): Promise<ServeProcess> {
  const child = spawn(process.execPath, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      lines.push(line);
      if (line.includes('"listening"')) resolve((JSON.parse(line) as { url: string }).url);
    });
    void exited.then((code) => reject(new Error(`exited early with ${code}: ${stderr} ${lines.join('\n')}`)));
  });
  return {
    child,
    lines,
    url,
    stop: () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}
