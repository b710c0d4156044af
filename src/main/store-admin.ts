import { resolve } from 'node:path';
import { loadConfig, type Config } from '../config/config.js';
import { AdminRefused } from '../keys/errors.js';
import { dataDirEngine } from '../store/engines.js';
import { ensureStoredPolicy } from '../app/stored-policy.js';
import { KeyStore } from '../store/key-store.js';
import { copyStore, type CopyResult } from '../store/store-copy.js';
import type { BackupResult, RestoreResult } from '../store/store-engine.js';
import { adminActor } from './open-admin.js';
import { configuredEngine } from './open-store.js';

/**
 * `dke store init` and `dke db migrate`: create the store (or bring its schema up to date); the embedded store is
 * never created by the service itself. `location` names it for a sentence: `the store PATH` or `the database "D" on H:P`.
 */
export async function initStore(config: Config = loadConfig()): Promise<{ readonly path: string; readonly created: boolean; readonly location: string }> {
  const engine = configuredEngine(config);
  const path = engine.where(config);
  const existed = !engine.isMissing(config);
  const connection = await engine.open(config, { role: 'admin', create: true });
  try {
    // A new (or just upgraded) store gets its admin policy from this configuration, and only then (contract §10).
    await ensureStoredPolicy(new KeyStore(connection), config);
  } finally {
    await connection.close();
  }
  return { path, created: !existed, location: connection.location };
}

/** `dke store backup FILE`: a consistent copy while the service runs (see the engine's backup). */
export async function backupToFile(file: string, config: Config = loadConfig()): Promise<BackupResult> {
  return configuredEngine(config).backup(config, resolve(file), adminActor(config));
}

/** `dke store restore FILE [--force]`: see store/sqlite/store-backup.ts. */
export async function restoreFromFile(file: string, force: boolean, config: Config = loadConfig()): Promise<RestoreResult> {
  return configuredEngine(config).restore(config, resolve(file), { force, actor: adminActor(config) });
}

/**
 * `dke db copy --from DATA_DIR` (contract §3): the embedded store in DATA_DIR into the empty PostgreSQL database of
 * DKE_DATABASE_URL (see store/store-copy.ts). The source is only read.
 */
export async function copyEmbeddedStore(fromDir: string, config: Config = loadConfig()): Promise<CopyResult> {
  if (config.databaseUrl === undefined) throw new AdminRefused('DKE_DATABASE_URL is not set: "dke db copy" copies an embedded store into the PostgreSQL database it names.');
  const from = dataDirEngine(resolve(fromDir));
  const source = await from.engine.open(from.settings, { role: 'admin' });
  try {
    const target = await configuredEngine(config).open(config, { role: 'admin' });
    try {
      return await copyStore(source, target, { actor: adminActor(config), from: from.engine.where(from.settings) });
    } finally {
      await target.close();
    }
  } finally {
    await source.close();
  }
}
