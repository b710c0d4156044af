import Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { StoreRefused } from '../../keys/errors.js';
import { GENESIS_HASH, migrationsFrom, SCHEMA_VERSION, type ColumnTypes } from '../schema.js';

export type StoreDatabase = Database.Database;

/** The store file inside DKE_DATA_DIR. */
export function storePath(dataDir: string): string {
  return join(dataDir, 'dke.sqlite');
}

export { GENESIS_HASH };

/** SQLite's integers are all 64-bit; an INTEGER PRIMARY KEY numbers itself (the rowid). */
export const SQLITE_COLUMNS: ColumnTypes = { bytes: 'BLOB', bigInteger: 'INTEGER', rowId: 'INTEGER PRIMARY KEY' };

export interface OpenStoreOptions {
  /**
   * `service`: decrypt entries are group-committed, and a held lock must never stall the event loop (no busy wait:
   * the audit writer retries on its own timer). `admin`: the CLI, which may wait for the service's short writes.
   */
  readonly role: 'admin' | 'service';
  /**
   * Create the store when there is none. Only explicit commands do (`dke store init`, `keys create`, `dev`,
   * `db migrate`): a service that created an empty store where a volume failed to mount would answer "no such key"
   * for every key while the token still holds them all.
   */
  readonly create?: boolean;
}

/**
 * Opens the store in `dataDir/dke.sqlite`. WAL lets the CLI write while the service reads. Both roles use
 * `synchronous=FULL`: a decrypt is answered only once its audit entry is committed, and group commit makes that one
 * fsync per batch rather than per decrypt.
 */
export function openStoreDatabase(dataDir: string, options: OpenStoreOptions): StoreDatabase {
  return openStoreFile(storePath(dataDir), options);
}

/** As openStoreDatabase, for a store file anywhere (a backup being checked or restored). */
export function openStoreFile(path: string, options: OpenStoreOptions): StoreDatabase {
  const dataDir = dirname(path);
  const create = options.create === true;
  if (!create) assertStoreFileLooksLikeOne(path);
  if (create) {
    try {
      mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    } catch (error) {
      throw new StoreRefused(`The store ${path} cannot be created: ${error instanceof Error ? error.message : String(error)}.`);
    }
  }
  let db: StoreDatabase;
  try {
    db = new Database(path, { fileMustExist: !create, timeout: options.role === 'service' ? 0 : 5000 });
  } catch (error) {
    throw new StoreRefused(`The store ${path} cannot be opened: ${describeSqliteError(error)}.`);
  }
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    migrate(db, path, create);
  } catch (error) {
    db.close();
    if (error instanceof StoreRefused) throw error;
    throw new StoreRefused(`The store ${path} cannot be used: ${describeSqliteError(error)}.`);
  }
  return db;
}

/** A missing or empty file is refused before SQLite would quietly make a new, empty store of it. */
function assertStoreFileLooksLikeOne(path: string): void {
  if (!existsSync(path)) {
    throw new StoreRefused(
      `There is no store at ${path}. Create one with "dke store init" (or "dke keys create", "dke dev", "dke db migrate"); if it should exist, check that its volume is mounted.`,
    );
  }
  if (statSync(path).size === 0) {
    throw new StoreRefused(`The store ${path} is an empty file: it looks replaced or truncated. Restore it from a backup ("dke store restore FILE").`);
  }
}

/**
 * Creates or upgrades the schema (schema.ts's versioned migrations) in one IMMEDIATE transaction; a store without its
 * identity is adopted only when it already holds data. A schema newer than this code is refused, never guessed at.
 */
function migrate(db: StoreDatabase, path: string, create: boolean): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version === SCHEMA_VERSION) return;
  if (version > SCHEMA_VERSION) {
    throw new StoreRefused(`The store ${path} has schema version ${version}, newer than this dke-service understands (${SCHEMA_VERSION}); run the newer dke-service, or restore a backup made by this one.`);
  }
  db.transaction(() => {
    const hadKeys = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'key_names'").get() !== undefined;
    if (!hadKeys && !create) {
      throw new StoreRefused(`The store ${path} holds no dke tables: it looks replaced. Restore it from a backup ("dke store restore FILE") or create it with "dke store init".`);
    }
    // Versions before 5 were SQLite's own and are folded into 5 (every statement of 5 may run again); from 5 on, each
    // migration runs once: an ALTER TABLE … ADD COLUMN of a later version cannot run twice.
    for (const migration of migrationsFrom(version >= 5 ? version : 4, SQLITE_COLUMNS)) {
      for (const statement of migration.statements) db.exec(statement);
      if (migration.version === 5) {
        addLaterColumns(db);
        db.prepare('INSERT OR IGNORE INTO store_meta (key, value) VALUES (?, ?), (?, ?)').run('store_id', randomUUID(), 'created_at', new Date().toISOString());
        const last = db.prepare('SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1').get() as { seq: number; hash: string } | undefined;
        db.prepare('INSERT OR IGNORE INTO audit_head (id, seq, hash, anchor_seq, anchor_hash) VALUES (1, ?, ?, 0, ?)').run(last?.seq ?? 0, last?.hash ?? GENESIS_HASH, GENESIS_HASH);
      }
    }
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  }).immediate();
}

/**
 * storeId's statement, prepared once per connection: the audit writer reads the identity before every batch
 * (sqlite-service-store.ts), and preparing it each time was a visible share of a batch's cost (issue 30).
 */
const storeIdStatements = new WeakMap<StoreDatabase, Database.Statement>();

/** The identity written at creation: a store replaced by another file has another one (or none). */
export function storeId(db: StoreDatabase): string {
  let statement = storeIdStatements.get(db);
  if (statement === undefined) {
    statement = db.prepare("SELECT value FROM store_meta WHERE key = 'store_id'");
    storeIdStatements.set(db, statement);
  }
  return (statement.get() as { value: string } | undefined)?.value ?? '';
}

/** SQLite's own words plus its code (SQLITE_FULL, SQLITE_BUSY, SQLITE_CORRUPT), never the data. */
export function describeSqliteError(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return typeof code === 'string' && code.startsWith('SQLITE_') ? `${error.message} (${code})` : error.message;
  }
  return String(error);
}

/**
 * Stores made before public keys were kept in the record lack the two columns: they are added (empty), and the
 * service fills them from the token once (app/public-key-backfill.ts).
 */
function addLaterColumns(db: StoreDatabase): void {
  const columns = new Set((db.prepare('PRAGMA table_info(key_versions)').all() as { name: string }[]).map((c) => c.name));
  for (const column of ['public_modulus', 'public_exponent']) {
    if (!columns.has(column)) db.exec(`ALTER TABLE key_versions ADD COLUMN ${column} BLOB`);
  }
  // Issue 14: the deletion window, last use and the rotation schedule, added empty to stores made before them.
  const nameColumns = new Set((db.prepare('PRAGMA table_info(key_names)').all() as { name: string }[]).map((c) => c.name));
  if (!nameColumns.has('rotation_every')) db.exec('ALTER TABLE key_names ADD COLUMN rotation_every TEXT');
  for (const column of ['deletion_requested_at', 'destroy_at', 'last_used_at']) {
    if (!columns.has(column)) db.exec(`ALTER TABLE key_versions ADD COLUMN ${column} TEXT`);
  }
}

