import { existsSync } from 'node:fs';
import type { StoreEngine } from '../store-engine.js';
import { describeSqliteError, storePath } from './database.js';
import { openSqliteServiceStore } from './sqlite-service-store.js';
import { openSqliteStore } from './sqlite-store-connection.js';
import { backupStore, restoreStore } from './store-backup.js';

/** The embedded store: one SQLite file in DKE_DATA_DIR (dke.sqlite), for a single instance and its CLI. */
export const sqliteEngine: StoreEngine = {
  // Any settings: the embedded store is what remains when no other engine takes them.
  handles: () => true,
  where: (settings) => storePath(settings.dataDir),
  isMissing: (settings) => !existsSync(storePath(settings.dataDir)),
  readFailureIsDamage: (settings) => existsSync(storePath(settings.dataDir)),
  describeError: describeSqliteError,
  open: async (settings, request) => openSqliteStore(settings.dataDir, { role: request.role, ...(request.create !== undefined ? { create: request.create } : {}) }),
  openForService: (settings, options) => openSqliteServiceStore(settings.dataDir, options),
  backup: (settings, file, actor) => backupStore(settings.dataDir, file, actor),
  restore: (settings, file, options) => restoreStore(settings.dataDir, file, options),
};
