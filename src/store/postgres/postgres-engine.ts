import { AdminRefused } from '../../keys/errors.js';
import type { StoreEngine, StoreSettings } from '../store-engine.js';
import { postgresDialect } from './postgres-dialect.js';
import { databaseLocation } from './postgres-location.js';

/**
 * The store shared by several instances (contract §5): the PostgreSQL database of DKE_DATABASE_URL. Its schema is
 * created or upgraded by whoever opens it first, one process at a time; nothing is written to DKE_DATA_DIR's store.
 */
// The connection modules (and with them the pg driver, about 30 files) load only when a database is opened: every
// `dke` command starts a process, and most deployments and all embedded ones never open one.
export const postgresEngine: StoreEngine = {
  handles: (settings) => settings.databaseUrl !== undefined,
  where: (settings) => databaseLocation(urlOf(settings)).sentence,
  // A database is never made by a command, only its schema; one that cannot be read is away, not damaged.
  isMissing: () => false,
  readFailureIsDamage: () => false,
  describeError: postgresDialect.describeError,
  open: async (settings, request) => {
    const { openPostgresStore } = await import('./postgres-store-connection.js');
    return openPostgresStore(urlOf(settings), {
      stalenessMs: settings.stateStalenessMs,
      waitForDatabase: request.waitForDatabase === true,
      ...(request.onReachability ? { onReachability: request.onReachability } : {}),
    });
  },
  openForService: async (settings, options) => {
    const { openPostgresServiceStore } = await import('./postgres-service-store.js');
    return openPostgresServiceStore(urlOf(settings), settings.dataDir, settings.stateStalenessMs, options);
  },
  backup: async (settings) => refuseCopies(settings),
  restore: async (settings) => refuseCopies(settings),
};

function urlOf(settings: StoreSettings): string {
  if (settings.databaseUrl === undefined) throw new Error('DKE_DATABASE_URL is not set');
  return settings.databaseUrl;
}

/** `dke store backup|restore` copy an embedded file; a database is backed up with the database's own tools. */
function refuseCopies(settings: StoreSettings): never {
  throw new AdminRefused(`The store is ${databaseLocation(urlOf(settings)).sentence} (DKE_DATABASE_URL): back it up and restore it with PostgreSQL's own tools (pg_dump, point-in-time recovery).`);
}
