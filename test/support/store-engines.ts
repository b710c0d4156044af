import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store-connection.js';
import { openPostgresStore } from '../../src/store/postgres/postgres-store-connection.js';
import type { StoreConnection } from '../../src/store/store-connection.js';
import { freshPostgresDatabase } from './postgres.js';

/** One engine the store's own tests run against: the same tests, the same assertions, on each. */
export interface EngineUnderTest {
  readonly engine: 'sqlite' | 'postgres';
  /** Opens another connection to the one store of this suite (a service, or a CLI command), creating it the first time. */
  open(role: 'admin' | 'service'): Promise<StoreConnection>;
  /**
   * How long a change committed through one connection may take to reach another one's lookups: none on SQLite
   * (the next lookup re-reads), up to a second on PostgreSQL (contract §5).
   */
  readonly propagationMs: number;
  /** Removes the store (the data directory; a database goes with the run's throwaway server). */
  dispose(): void;
}

/** The engines, each with its own fresh, empty store named after `label` (made when first opened). */
export function storeEngines(label: string): EngineUnderTest[] {
  let dir: string | undefined;
  const sqlite: EngineUnderTest = {
    engine: 'sqlite',
    propagationMs: 0,
    open: async (role) => {
      const create = dir === undefined;
      dir ??= mkdtempSync(join(tmpdir(), `dke-${label}-`));
      return openSqliteStore(dir, { role, create });
    },
    dispose: () => {
      if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    },
  };
  let url: Promise<string> | undefined;
  const postgres: EngineUnderTest = {
    engine: 'postgres',
    propagationMs: 1000,
    open: async () => {
      url ??= freshPostgresDatabase(label);
      return openPostgresStore(await url, { stalenessMs: 300_000 });
    },
    dispose: () => undefined,
  };
  return [sqlite, postgres];
}

/** Polls `check` (an assertion) until it passes or `withinMs` have passed; with 0 it must pass at once. */
export async function within(withinMs: number, check: () => void): Promise<void> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    try {
      check();
      return;
    } catch (error) {
      if (Date.now() >= deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
}

/**
 * What schemas 7 to 9 added, taken away again (statements both engines run): a store as dke-service wrote it at
 * schema 6, for the tests that upgrade one in place. A new schema version adds its undoing here.
 */
export const SINCE_SCHEMA_6: readonly string[] = [
  'DROP TABLE admin_policy',
  'ALTER TABLE key_versions DROP COLUMN row_version',
  'ALTER TABLE approvals DROP COLUMN bound_to',
  'ALTER TABLE approvals DROP COLUMN proposed',
  'ALTER TABLE intents DROP COLUMN lease_until',
  'ALTER TABLE key_versions DROP COLUMN vault',
];
