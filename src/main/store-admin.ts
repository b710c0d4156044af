import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { loadConfig, type Config } from '../config/config.js';
import { openStoreDatabase, storePath } from '../store/database.js';
import { backupStore, restoreStore, type BackupResult, type RestoreResult } from '../store/store-backup.js';
import { adminActor } from './open-admin.js';

/** `dke store init` and `dke db migrate`: create the store (or bring its schema up to date); the service never does. */
export function initStore(config: Config = loadConfig()): { readonly path: string; readonly created: boolean } {
  const path = storePath(config.dataDir);
  const existed = existsSync(path);
  openStoreDatabase(config.dataDir, { role: 'admin', create: true }).close();
  return { path, created: !existed };
}

/** `dke store backup FILE`: a consistent copy while the service runs. */
export function backupToFile(file: string, config: Config = loadConfig()): Promise<BackupResult> {
  return backupStore(config.dataDir, resolve(file), adminActor(config));
}

/** `dke store restore FILE [--force]`: see store/store-backup.ts. */
export function restoreFromFile(file: string, force: boolean, config: Config = loadConfig()): RestoreResult {
  return restoreStore(config.dataDir, resolve(file), { force, actor: adminActor(config) });
}
