import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface BenchPostgres {
  readonly url: string;
  stop(): void;
}

const SCRIPT = 'scripts/pg-throwaway.sh';

/**
 * A throwaway PostgreSQL server (scripts/pg-throwaway.sh, fsync on, as in production) for the decrypt table with the
 * PostgreSQL store; or why there is none: this build's service does not read DKE_DATABASE_URL, or the server would
 * not start.
 */
export function startBenchPostgres(): BenchPostgres | string {
  const settings = 'dist/config/settings.js';
  if (!existsSync(settings) || !readFileSync(settings, 'utf8').includes('DKE_DATABASE_URL')) return 'this build has no PostgreSQL store (DKE_DATABASE_URL)';
  if (!existsSync(SCRIPT)) return `${SCRIPT} is missing`;
  const dir = mkdtempSync(join(tmpdir(), 'dke-bench-pg-'));
  try {
    const url = execFileSync('bash', [SCRIPT, 'start', dir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim().split('\n').pop()!;
    return { url, stop: () => execFileSync('bash', [SCRIPT, 'stop', dir], { stdio: 'ignore' }) };
  } catch (error) {
    return `the throwaway PostgreSQL did not start: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`;
  }
}
