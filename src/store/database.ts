import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { KEY_STATES } from '../keys/key-version.js';

export type StoreDatabase = Database.Database;

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
  PRIMARY KEY (name, key_id)
);
CREATE TABLE IF NOT EXISTS grants (
  name TEXT NOT NULL REFERENCES key_names(name),
  kind TEXT NOT NULL CHECK (kind IN ('users','groups','roles')),
  value TEXT NOT NULL,
  PRIMARY KEY (name, kind, value)
);
CREATE TABLE IF NOT EXISTS audit (
  seq INTEGER PRIMARY KEY,
  at TEXT NOT NULL,
  entry TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL
);
`;

/**
 * Opens (and creates) the store in `dataDir/dke.sqlite`. WAL lets the CLI write while the service reads; the busy
 * timeout makes a writer wait for the other instead of failing. Admin connections (the CLI) use `synchronous=FULL`,
 * because a lost state change (a key believed Deactivated that is not) is worse than a slower write; the service,
 * which writes only audit entries of decrypts, uses NORMAL: in WAL mode that never corrupts, and a power cut can lose
 * at most the last few entries instead of costing an fsync per decrypt.
 */
export function openStoreDatabase(dataDir: string, durability: 'admin' | 'service' = 'admin'): StoreDatabase {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const db = new Database(join(dataDir, 'dke.sqlite'));
  db.pragma('journal_mode = WAL');
  db.pragma(durability === 'admin' ? 'synchronous = FULL' : 'synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
  db.pragma('foreign_keys = ON');
  db.exec(SCHEMA);
  addPublicKeyColumns(db);
  return db;
}

/**
 * Stores made before public keys were kept in the record lack the two columns: they are added (empty), and the
 * service fills them from the token once (app/public-key-backfill.ts).
 */
function addPublicKeyColumns(db: StoreDatabase): void {
  const columns = new Set((db.prepare('PRAGMA table_info(key_versions)').all() as { name: string }[]).map((c) => c.name));
  for (const column of ['public_modulus', 'public_exponent']) {
    if (!columns.has(column)) db.exec(`ALTER TABLE key_versions ADD COLUMN ${column} BLOB`);
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
