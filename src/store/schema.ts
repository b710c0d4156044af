import type { Generated } from './kysely.js';
import { KEY_STATES, type KeyState } from '../keys/key-version.js';

/** The column types that differ between engines; each engine's folder names its own (integers and byte strings). */
export interface ColumnTypes {
  /** Byte strings (public key parts). */
  readonly bytes: string;
  /** Integers that may pass 2^31 (sequence numbers). */
  readonly bigInteger: string;
  /** An integer key the database numbers itself when none is given. */
  readonly rowId: string;
}

/** The tables as Kysely sees them; the same on both engines (integers and byte strings map to each engine's types). */
export interface StoreTables {
  key_names: { name: string; published_key_id: string | null; created_at: string; rotation_every: string | null };
  key_versions: {
    name: string;
    key_id: string;
    state: KeyState;
    enabled: number;
    origin: 'generated' | 'imported';
    created_at: string;
    state_changed_at: string;
    seq: number;
    public_modulus: Buffer | null;
    public_exponent: Buffer | null;
    deletion_requested_at: string | null;
    destroy_at: string | null;
    last_used_at: string | null;
    /** Bumped by every write of the row (schema 7): a proposal names the value it was made against (issue 26). */
    row_version: Generated<number>;
    vault: string;
  };
  grants: { name: string; kind: 'users' | 'groups' | 'roles'; value: string };
  approvals: {
    id: string;
    operation: string;
    key_name: string | null;
    key_id: string | null;
    target_state: string | null;
    requested_by: string;
    requested_by_principal: string;
    requested_at: string;
    expires_at: string;
    status: string;
    decided_by: string | null;
    decided_at: string | null;
    /** JSON: the state the proposal was made against (schema 7; key-approvals.ts); null for older proposals. */
    bound_to: Generated<string | null>;
    /** JSON: what a `set-policy` proposal would set (schema 7). */
    proposed: Generated<string | null>;
  };
  admin_policy: {
    id: number;
    approvals_required: number;
    deletion_window_default_ms: number;
    deletion_window_minimum_ms: number;
    rotation_minimum_ms: number;
    app_only_may_approve: number;
  };
  job_leases: { job: string; owner: string; until: string };
  emergency_block: { id: number; since: string; by: string };
  audit: { seq: number; at: string; entry: string; prev_hash: string; hash: string };
  audit_head: { id: number; seq: number; hash: string; anchor_seq: number; anchor_hash: string };
  audit_archives: { first: number; last: number; last_hash: string; sha256: string; file: string; created_at: string };
  store_meta: { key: string; value: string };
  intents: { id: Generated<number>; action: string; name: string; key_id: string; actor: string; owner: string; created_at: string; details: string; lease_until: string };
  store_version: { id: number; version: number };
}

export const GENESIS_HASH = '0'.repeat(64);

/**
 * The schema version this code writes. SQLite keeps it in `user_version`, PostgreSQL in `store_meta`. 3: the emergency
 * block; 4: job leases and the deletion window; 5: approvals (issue 14); 6: the change counter every instance watches
 * (issue 13); 7: the admin policy in the store, and proposals bound to the state they were made against (issue 26);
 * 8: the lease of each intent (issue 25); 9: the vault of each version (contract §9).
 */
export const SCHEMA_VERSION = 9;

/**
 * One migration: the statements that bring a store from `version - 1` to `version`. Version 5 creates every table of
 * that version (`IF NOT EXISTS`, so an older SQLite store gains only what it lacks); versions before it were SQLite
 * only and are folded into it.
 */
interface Migration {
  readonly version: number;
  statements(columns: ColumnTypes): string[];
}

const MIGRATIONS: readonly Migration[] = [
  { version: 5, statements: (columns) => baseSchema(columns) },
  {
    version: 6,
    statements: () => [
      // Bumped by every change transaction (its first statement, so writers take their lock at once); instances
      // compare it with the version their snapshot was read at (LISTEN/NOTIFY tells them early, a poll for sure).
      `CREATE TABLE IF NOT EXISTS store_version (id INTEGER PRIMARY KEY CHECK (id = 1), version BIGINT NOT NULL)`,
      `INSERT INTO store_version (id, version) VALUES (1, 1) ON CONFLICT (id) DO NOTHING`,
    ],
  },
  {
    version: 7,
    statements: ({ bigInteger: big }) => [
      // One row, shared by every instance and every path (contract §10); written by the first process that opens the
      // store after this migration, from its configuration (app/stored-policy.ts), and afterwards only by admins.
      `CREATE TABLE IF NOT EXISTS admin_policy (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        approvals_required INTEGER NOT NULL CHECK (approvals_required IN (1,2)),
        deletion_window_default_ms ${big} NOT NULL,
        deletion_window_minimum_ms ${big} NOT NULL,
        rotation_minimum_ms ${big} NOT NULL,
        app_only_may_approve INTEGER NOT NULL CHECK (app_only_may_approve IN (0,1))
      )`,
      `ALTER TABLE key_versions ADD COLUMN row_version ${big} NOT NULL DEFAULT 0`,
      `ALTER TABLE approvals ADD COLUMN bound_to TEXT`,
      `ALTER TABLE approvals ADD COLUMN proposed TEXT`,
    ],
  },
  {
    version: 8,
    statements: () => [
      // Issue 25: an intent's holder (the `owner` column) keeps it only while it renews this lease; once it has
      // passed, any instance takes the intent over (app/intent-takeover.ts). An intent of an older store has none:
      // it is taken over at once.
      `ALTER TABLE intents ADD COLUMN lease_until TEXT NOT NULL DEFAULT ''`,
    ],
  },
  {
    version: 9,
    // Contract §9: every version records the vault whose token holds it; the versions of a store from before vaults
    // were made in the one token of the DKE_PKCS11_* settings, the vault `default`.
    statements: () => [`ALTER TABLE key_versions ADD COLUMN vault TEXT NOT NULL DEFAULT 'default'`],
  },
];

/** The statements that bring a store at `from` up to SCHEMA_VERSION, in order, each with the version it reaches. */
export function migrationsFrom(from: number, columns: ColumnTypes): { version: number; statements: string[] }[] {
  return MIGRATIONS.filter((m) => m.version > from).map((m) => ({ version: m.version, statements: m.statements(columns) }));
}

function baseSchema({ bytes: blob, bigInteger: big, rowId }: ColumnTypes): string[] {
  return [
    `CREATE TABLE IF NOT EXISTS key_names (
      name TEXT PRIMARY KEY,
      published_key_id TEXT,
      created_at TEXT NOT NULL,
      rotation_every TEXT
    )`,
    `CREATE TABLE IF NOT EXISTS key_versions (
      name TEXT NOT NULL REFERENCES key_names(name),
      key_id TEXT NOT NULL,
      state TEXT NOT NULL CHECK (state IN (${KEY_STATES.map((state) => `'${state}'`).join(',')})),
      enabled INTEGER NOT NULL CHECK (enabled IN (0,1)),
      origin TEXT NOT NULL CHECK (origin IN ('generated','imported')),
      created_at TEXT NOT NULL,
      state_changed_at TEXT NOT NULL,
      seq ${big} NOT NULL,
      public_modulus ${blob},
      public_exponent ${blob},
      deletion_requested_at TEXT,
      destroy_at TEXT,
      last_used_at TEXT,
      PRIMARY KEY (name, key_id)
    )`,
    `CREATE TABLE IF NOT EXISTS approvals (
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
    )`,
    `CREATE TABLE IF NOT EXISTS job_leases (job TEXT PRIMARY KEY, owner TEXT NOT NULL, until TEXT NOT NULL)`,
    `CREATE TABLE IF NOT EXISTS grants (
      name TEXT NOT NULL REFERENCES key_names(name),
      kind TEXT NOT NULL CHECK (kind IN ('users','groups','roles')),
      value TEXT NOT NULL,
      PRIMARY KEY (name, kind, value)
    )`,
    `CREATE TABLE IF NOT EXISTS emergency_block (id INTEGER PRIMARY KEY CHECK (id = 1), since TEXT NOT NULL, "by" TEXT NOT NULL)`,
    `CREATE TABLE IF NOT EXISTS audit (seq ${big} PRIMARY KEY, at TEXT NOT NULL, entry TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL)`,
    // Who this store is: written once by an explicit creation, so a replaced or empty file is told apart.
    `CREATE TABLE IF NOT EXISTS store_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)`,
    // Admin steps that touch the token, written before the token is touched and deleted with the step's outcome.
    `CREATE TABLE IF NOT EXISTS intents (
      id ${rowId},
      action TEXT NOT NULL,
      name TEXT NOT NULL,
      key_id TEXT NOT NULL,
      actor TEXT NOT NULL,
      owner TEXT NOT NULL,
      created_at TEXT NOT NULL,
      details TEXT NOT NULL
    )`,
    // One row per archive file made by "dke audit archive" or the retention: its range, last hash and SHA-256.
    `CREATE TABLE IF NOT EXISTS audit_archives (
      first ${big} NOT NULL,
      last ${big} PRIMARY KEY,
      last_hash TEXT NOT NULL,
      sha256 TEXT NOT NULL,
      file TEXT NOT NULL,
      created_at TEXT NOT NULL
    )`,
    // The audit head, kept apart from the entries: removing the last entries (truncation) no longer verifies.
    // anchor_seq/anchor_hash: the last entry moved to an archive (0 and the genesis hash when none was).
    `CREATE TABLE IF NOT EXISTS audit_head (
      id INTEGER PRIMARY KEY CHECK (id = 1),
      seq ${big} NOT NULL,
      hash TEXT NOT NULL,
      anchor_seq ${big} NOT NULL,
      anchor_hash TEXT NOT NULL
    )`,
  ];
}
