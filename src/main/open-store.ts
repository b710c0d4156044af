import type { Config } from '../config/config.js';
import { openPostgresStore } from '../store/postgres-store-connection.js';
import { openSqliteStore } from '../store/sqlite-store-connection.js';
import type { StoreConnection } from '../store/store-connection.js';

export interface OpenStoreRequest {
  /** `service`: never waits for a lock on the embedded store (see OpenStoreOptions); `admin`: one CLI command. */
  readonly role: 'admin' | 'service';
  /** Create the embedded store when there is none (only the commands that make a deployment). */
  readonly create?: boolean;
  /** The service: a database unreachable at start is tried again in the background (readiness fails meanwhile). */
  readonly waitForDatabase?: boolean;
  /** Told when the shared database stops or starts answering (the service logs it and rechecks readiness). */
  readonly onReachability?: (reachable: boolean, detail: string) => void;
}

/**
 * The configured store: PostgreSQL when DKE_DATABASE_URL is set (its schema created or upgraded by whoever opens it
 * first, one process at a time; nothing is written to DKE_DATA_DIR's store), else the embedded SQLite file in
 * DKE_DATA_DIR.
 */
export async function openConfiguredStore(config: Pick<Config, 'dataDir' | 'databaseUrl' | 'stateStalenessMs'>, request: OpenStoreRequest): Promise<StoreConnection> {
  if (config.databaseUrl !== undefined) {
    return openPostgresStore(config.databaseUrl, {
      stalenessMs: config.stateStalenessMs,
      waitForDatabase: request.waitForDatabase === true,
      ...(request.onReachability ? { onReachability: request.onReachability } : {}),
    });
  }
  return openSqliteStore(config.dataDir, { role: request.role, ...(request.create !== undefined ? { create: request.create } : {}) });
}

/** How sentences name the configured store, without opening it (never the password). */
export { databaseLocation } from '../store/postgres-location.js';
