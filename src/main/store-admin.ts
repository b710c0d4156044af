import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { loadConfig, type Config } from '../config/config.js';
import { storePath } from '../store/database.js';
import { backupStore, restoreStore, type BackupResult, type RestoreResult } from '../store/store-backup.js';
import { copyStore, type CopyResult } from '../store/store-copy.js';
import { openSqliteStore } from '../store/sqlite-store-connection.js';
import { adminActor } from './open-admin.js';
import { databaseLocation, openConfiguredStore } from './open-store.js';
import { AdminRefused } from '../keys/errors.js';

/**
 * `dke store init` and `dke db migrate`: create the store (or bring its schema up to date); the embedded store is
 * never created by the service itself. `location` names it for a sentence: `the store PATH` or `the database "D" on H:P`.
 */
export async function initStore(config: Config = loadConfig()): Promise<{ readonly path: string; readonly created: boolean; readonly location: string }> {
  const embedded = config.databaseUrl === undefined;
  const path = embedded ? storePath(config.dataDir) : databaseLocation(config.databaseUrl!).sentence;
  const existed = !embedded || existsSync(path);
  const connection = await openConfiguredStore(config, { role: 'admin', create: true });
  await connection.close();
  return { path, created: !existed, location: connection.location };
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

/**
 * `dke db copy --from DATA_DIR` (contract §3): the embedded store in DATA_DIR into the empty PostgreSQL database of
 * DKE_DATABASE_URL (see store/store-copy.ts). The source is only read.
 */
export async function copyEmbeddedStore(fromDir: string, config: Config = loadConfig()): Promise<CopyResult> {
  if (config.databaseUrl === undefined) throw new AdminRefused('DKE_DATABASE_URL is not set: "dke db copy" copies an embedded store into the PostgreSQL database it names.');
  const from = resolve(fromDir);
  const source = openSqliteStore(from, { role: 'admin' });
  try {
    const target = await openConfiguredStore(config, { role: 'admin' });
    try {
      return await copyStore(source, target, { actor: adminActor(config), from: storePath(from) });
    } finally {
      await target.close();
    }
  } finally {
    await source.close();
  }
}
