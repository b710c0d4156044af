import { postgresEngine } from './postgres/postgres-engine.js';
import { sqliteEngine } from './sqlite/sqlite-engine.js';
import type { StoreEngine, StoreSettings } from './store-engine.js';

/**
 * Every store engine, asked in this order: the first that takes the settings serves them. PostgreSQL takes those with
 * DKE_DATABASE_URL; the embedded SQLite file in DKE_DATA_DIR takes any, so it comes last. The only place that chooses
 * an engine: a third one is its own folder and one line here.
 */
const ENGINES: readonly StoreEngine[] = [postgresEngine, sqliteEngine];

/** The engine of the store these settings name. */
export function storeEngineFor(settings: StoreSettings): StoreEngine {
  const engine = ENGINES.find((candidate) => candidate.handles(settings));
  if (engine === undefined) throw new Error('no store engine takes these settings');
  return engine;
}

/** The engine of a store kept in a data directory alone (the source of `dke db copy --from DATA_DIR`). */
export function dataDirEngine(dataDir: string): { readonly engine: StoreEngine; readonly settings: StoreSettings } {
  const settings: StoreSettings = { dataDir, stateStalenessMs: 0 };
  return { engine: storeEngineFor(settings), settings };
}
