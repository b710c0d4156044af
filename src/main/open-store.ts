import type { Config } from '../config/config.js';
import { storeEngineFor } from '../store/engines.js';
import type { StoreConnection } from '../store/store-connection.js';
import type { OpenStoreRequest, StoreEngine } from '../store/store-engine.js';

export type { OpenStoreRequest };

/** The settings a store is picked and opened by. */
export type StoreConfig = Pick<Config, 'dataDir' | 'databaseUrl' | 'stateStalenessMs'>;

/**
 * The engine of the configured store: PostgreSQL when DKE_DATABASE_URL is set, else the embedded SQLite file in
 * DKE_DATA_DIR (store/engines.ts is the one place that chooses).
 */
export function configuredEngine(config: StoreConfig): StoreEngine {
  return storeEngineFor(config);
}

/** The configured store, opened for one command (or the tests), its schema migrated when older than this code. */
export async function openConfiguredStore(config: StoreConfig, request: OpenStoreRequest): Promise<StoreConnection> {
  return configuredEngine(config).open(config, request);
}
