import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { loadConfig, type Config } from '../config/config.js';
import { storePath } from '../store/database.js';
import { backupStore, restoreStore, type BackupResult, type RestoreResult } from '../store/store-backup.js';
import { adminActor } from './open-admin.js';
import { databaseLocation, openConfiguredStore } from './open-store.js';
import { AdminRefused } from '../keys/errors.js';

/** `dke store init` and `dke db migrate`: create the store (or bring its schema up to date); the service never does. */
export async function initStore(config: Config = loadConfig()): Promise<{ readonly path: string; readonly created: boolean }> {
  const path = config.databaseUrl === undefined ? storePath(config.dataDir) : databaseLocation(config.databaseUrl).sentence;
  const existed = config.databaseUrl !== undefined || existsSync(path);
  await (await openConfiguredStore(config, { role: 'admin', create: true })).close();
  return { path, created: !existed };
}

/** `dke store backup|restore` copy the embedded file; a PostgreSQL store is backed up with the database's own tools. */
function assertEmbeddedStore(config: Config): void {
  if (config.databaseUrl !== undefined) {
    throw new AdminRefused(`The store is ${databaseLocation(config.databaseUrl).sentence} (DKE_DATABASE_URL): back it up and restore it with PostgreSQL's own tools (pg_dump, point-in-time recovery).`);
  }
}

/** `dke store backup FILE`: a consistent copy while the service runs. */
export async function backupToFile(file: string, config: Config = loadConfig()): Promise<BackupResult> {
  assertEmbeddedStore(config);
  return backupStore(config.dataDir, resolve(file), adminActor(config));
}

/** `dke store restore FILE [--force]`: see store/store-backup.ts. */
export async function restoreFromFile(file: string, force: boolean, config: Config = loadConfig()): Promise<RestoreResult> {
  assertEmbeddedStore(config);
  return restoreStore(config.dataDir, resolve(file), { force, actor: adminActor(config) });
}
