import Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { StoreRefused } from '../keys/errors.js';
import { KEY_STATES } from '../keys/key-version.js';

export type StoreDatabase = Database.Database;

/** The store file inside DKE_DATA_DIR. */
export function storePath(dataDir: string): string {
  return join(dataDir, 'dke.sqlite');
}

/** Bumped with every schema change; `migrate` brings older stores up to it (3: the emergency block; 4: job leases and the deletion window; 5: approvals, issue 14). */
const SCHEMA_VERSION = 5;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS key_names (
  name TEXT PRIMARY KEY,
  published_key_id TEXT,
  created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS key_versions (
  name TEXT NOT NULL REFERENCES key_names(name),
  key_id TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN (${KEY_STATES.map((state) => `'${state}'`).join(',')})),
  enabled INTEGER NOT NULL CHECK (enabled IN (0,1)),
  origin TEXT NOT NULL CHECK (origin IN ('generated','imported')),
  created_at TEXT NOT NULL,
  state_changed_at TEXT NOT NULL,
  seq INTEGER NOT NULL,
  public_modulus BLOB,
  public_exponent BLOB,
  deletion_requested_at TEXT,
  destroy_at TEXT,
  PRIMARY KEY (name, key_id)
);
CREATE TABLE IF NOT EXISTS approvals (
  id TEXT PRIMARY KEY,
  operation TEXT NOT NULL,
  key_name TEXT,
  key_id TEXT,
  target_state TEXT,
  requested_by TEXT NOT NULL,
  requested_by_principal TEXT NOT NULL,
  requested_at TEXT NOT NULL,
  expires_at TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('pending','approved','rejected','expired','failed')),
  decided_by TEXT,
  decided_at TEXT
);
CREATE TABLE IF NOT EXISTS job_leases (
  job TEXT PRIMARY KEY,
  owner TEXT NOT NULL,
  until TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS grants (
  name TEXT NOT NULL REFERENCES key_names(name),
  kind TEXT NOT NULL CHECK (kind IN ('users','groups','roles')),
  value TEXT NOT NULL,
  PRIMARY KEY (name, kind, value)
);
CREATE TABLE IF NOT EXISTS emergency_block (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  since TEXT NOT NULL,
  by TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS audit (
  seq INTEGER PRIMARY KEY,
  at TEXT NOT NULL,
  entry TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL
);
-- Who this store is: written once by an explicit creation, so a replaced or empty file is told apart.
CREATE TABLE IF NOT EXISTS store_meta (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
-- Admin steps that touch the token, written before the token is touched and deleted with the step's outcome.
CREATE TABLE IF NOT EXISTS intents (
  id INTEGER PRIMARY KEY,
  action TEXT NOT NULL,
  name TEXT NOT NULL,
  key_id TEXT NOT NULL,
  actor TEXT NOT NULL,
  owner TEXT NOT NULL,
  created_at TEXT NOT NULL,
  details TEXT NOT NULL
);
-- One row per archive file made by "dke audit archive" or the retention: its range, last hash and SHA-256.
CREATE TABLE IF NOT EXISTS audit_archives (
  first INTEGER NOT NULL,
  last INTEGER PRIMARY KEY,
  last_hash TEXT NOT NULL,
  sha256 TEXT NOT NULL,
  file TEXT NOT NULL,
  created_at TEXT NOT NULL
);
-- The audit head, kept apart from the entries: removing the last entries (truncation) no longer verifies.
-- anchor_seq/anchor_hash: the last entry moved to an archive (0 and the genesis hash when none was).
CREATE TABLE IF NOT EXISTS audit_head (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  seq INTEGER NOT NULL,
  hash TEXT NOT NULL,
  anchor_seq INTEGER NOT NULL,
  anchor_hash TEXT NOT NULL
);
`;

export const GENESIS_HASH = '0'.repeat(64);

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
    addLaterColumns(db);
    if (options.role === 'service') serviceConnections.add(db);
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

/** Creates or upgrades the schema; a store without its identity is adopted only when it already holds data. */
function migrate(db: StoreDatabase, path: string, create: boolean): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version === SCHEMA_VERSION) return;
  if (version > SCHEMA_VERSION) {
    throw new StoreRefused(`The store ${path} has schema version ${version}, newer than this dke-service understands (${SCHEMA_VERSION}).`);
  }
  db.transaction(() => {
    const hadKeys = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'key_names'").get() !== undefined;
    if (!hadKeys && !create) {
      throw new StoreRefused(`The store ${path} holds no dke tables: it looks replaced. Restore it from a backup ("dke store restore FILE") or create it with "dke store init".`);
    }
    db.exec(SCHEMA);
    db.prepare('INSERT OR IGNORE INTO store_meta (key, value) VALUES (?, ?), (?, ?)').run('store_id', randomUUID(), 'created_at', new Date().toISOString());
    const last = db.prepare('SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1').get() as { seq: number; hash: string } | undefined;
    db.prepare('INSERT OR IGNORE INTO audit_head (id, seq, hash, anchor_seq, anchor_hash) VALUES (1, ?, ?, 0, ?)').run(
      last?.seq ?? 0,
      last?.hash ?? GENESIS_HASH,
      GENESIS_HASH,
    );
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  }).immediate();
}

/** The identity written at creation: a store replaced by another file has another one (or none). */
export function storeId(db: StoreDatabase): string {
  return (db.prepare("SELECT value FROM store_meta WHERE key = 'store_id'").get() as { value: string } | undefined)?.value ?? '';
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

const serviceConnections = new WeakSet<StoreDatabase>();
/** How long an admin write made through the service (the admin API) may wait for a lock another process holds. */
const SERVICE_ADMIN_LOCK_WAIT_MS = 1000;

/**
 * Runs an admin write (a state change, a grant, its audit entry). On the service's connection, which never waits
 * for a lock (decrypt entries are retried on a timer instead), an admin write may wait up to a second for a CLI's
 * short write to end rather than fail at once; the CLI's connection waits anyway.
 */
export function adminWrite<T>(db: StoreDatabase, work: () => T): T {
  if (!serviceConnections.has(db) || db.inTransaction) return work();
  db.pragma(`busy_timeout = ${SERVICE_ADMIN_LOCK_WAIT_MS}`);
  try {
    return work();
  } finally {
    db.pragma('busy_timeout = 0');
  }
}

const dataVersionStatements = new WeakMap<StoreDatabase, Database.Statement>();

/**
 * Changes whenever another connection (the CLI) commits; cheap enough to ask on every request once the statement is
 * prepared (db.pragma() would prepare it anew each time).
 */
export function dataVersion(db: StoreDatabase): number {
  let statement = dataVersionStatements.get(db);
  if (statement === undefined) {
    statement = db.prepare('PRAGMA data_version').pluck();
    dataVersionStatements.set(db, statement);
  }
  return statement.get() as number;
}
