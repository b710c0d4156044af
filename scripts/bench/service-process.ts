import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface ServiceProcess {
  readonly url: string;
  stop(): Promise<number | null>;
}

/**
 * Starts the built service (`node dist/cli.js serve`) as its own process, as production runs it, and waits for its
 * "listening" log line and a 200 from /health/ready.
 */
export async function startServiceProcess(env: NodeJS.ProcessEnv): Promise<ServiceProcess> {
  const child: ChildProcess = spawn(process.execPath, ['dist/cli.js', 'serve'], {
    env: { ...env, DKE_PORT: '0', DKE_HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const url = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      if (!line.includes('"listening"')) return;
      const parsed = JSON.parse(line) as { url: string };
      resolve(parsed.url.replace('localhost', '127.0.0.1'));
    });
    child.once('exit', (code) => reject(new Error(`the service exited with ${code}: ${stderr}`)));
  });
  // Keep draining stdout so the service never blocks on a full pipe.
  child.stdout!.resume();
  for (let i = 0; i < 100; i += 1) {
    const res = await fetch(`${url}/health/ready`).catch(() => undefined);
    if (res?.status === 200) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    stop: () =>
      new Promise((resolve) => {
        child.once('exit', (code) => resolve(code));
        child.kill('SIGTERM');
      }),
  };
}
