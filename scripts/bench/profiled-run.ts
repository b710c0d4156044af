import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CpuProfile } from './flame-graph.js';
import { runLoad, type LoadRequest } from './http-load.js';

/** A process started with extra node arguments, reachable at `url`, stopped by `stop` (which writes its profiles). */
interface Started {
  readonly url: string;
  stop(): Promise<unknown>;
}

/**
 * Starts a process under `node --cpu-prof`, loads it with `request(url)` at `connections` in flight (warm-up first,
 * then `seconds` measured), stops it, and returns its main thread's profile (the largest of the files, as the decrypt
 * threads mostly wait in native code) with the time the measured load began, so that start-up is left out.
 */
export interface ProfiledRun {
  readonly profile: CpuProfile;
  /** When the measured load began, on the profile's clock (µs): partShares(profile, measuredFrom). */
  readonly measuredFrom: number;
}

export async function profileUnderLoad(
  start: (nodeArgs: readonly string[]) => Promise<Started>,
  request: (url: string) => Promise<LoadRequest> | LoadRequest,
  connections: number,
  seconds: number,
): Promise<ProfiledRun> {
  const dir = mkdtempSync(join(tmpdir(), 'dke-bench-prof-'));
  try {
    const started = await start(['--cpu-prof', `--cpu-prof-dir=${dir}`]);
    const load = await request(started.url);
    await runLoad(load, connections, 1);
    const measuredFrom = Number(process.hrtime.bigint() / 1000n);
    const result = await runLoad(load, connections, seconds);
    await started.stop();
    if (result.errors + result.non2xx > 0) throw new Error(`errors under the profiler: ${result.errors + result.non2xx}`);
    const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')).map((f) => join(dir, f));
    const main = files.sort((a, b) => statSync(b).size - statSync(a).size)[0];
    if (main === undefined) throw new Error('the profiled process wrote no profile');
    return { profile: JSON.parse(readFileSync(main, 'utf8')) as CpuProfile, measuredFrom };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
