import type { AllowList, DeletionSchedule, KeyRecord, KeyState, KeyVersion, RsaPublicKey } from '../keys/key-version.js';
import type { AddVersionResult, Approval, ApprovalStatus, EmergencyBlock, KeyStateStore, NewKeyVersion } from '../keys/ports.js';
import { StoreUnavailable } from '../keys/errors.js';
import { adminWrite, dataVersion, describeSqliteError, type StoreDatabase } from './database.js';

interface VersionRow {
  name: string;
  key_id: string;
  state: KeyState;
  enabled: number;
  origin: 'generated' | 'imported';
  created_at: string;
  state_changed_at: string;
  public_modulus: Buffer | null;
  public_exponent: Buffer | null;
  deletion_requested_at: string | null;
  destroy_at: string | null;
}

/**
 * Key names, versions, states and allow lists in SQLite. Reads come from an in-memory snapshot that is rebuilt only
 * when `data_version` says another connection (the CLI) committed, so a change made with `dke` applies to the
 * service's next request without a disk scan per request.
 */
export class SqliteKeyStore implements KeyStateStore {
  readonly #db: StoreDatabase;
  #snapshot: Map<string, KeyRecord> | undefined;
  #block: EmergencyBlock | undefined;
  #snapshotVersion = -1;

  constructor(db: StoreDatabase) {
    this.#db = db;
  }

  emergencyBlock(): EmergencyBlock | undefined {
    this.#current();
    return this.#block;
  }

  setRotation(name: string, every: string | undefined): boolean {
    return this.#write(() => this.#db.prepare('UPDATE key_names SET rotation_every = ? WHERE name = ? AND rotation_every IS NOT ?').run(every ?? null, name, every ?? null).changes === 1);
  }

  lastUses(name: string): ReadonlyMap<string, string> {
    const rows = this.#db.prepare('SELECT key_id, last_used_at FROM key_versions WHERE name = ? AND last_used_at IS NOT NULL').all(name) as { key_id: string; last_used_at: string }[];
    return new Map(rows.map((r) => [r.key_id, r.last_used_at]));
  }

  addApproval(approval: Approval): void {
    this.#write(() => {
      this.#db
        .prepare(
          `INSERT INTO approvals (id, operation, key_name, key_id, target_state, requested_by, requested_by_principal, requested_at, expires_at, status)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(approval.id, approval.operation, approval.keyName ?? null, approval.keyId ?? null, approval.state ?? null, approval.requestedBy, approval.requestedByPrincipal, approval.requestedAt, approval.expiresAt, approval.status);
    });
  }

  listApprovals(): Approval[] {
    const rows = this.#db.prepare('SELECT * FROM approvals ORDER BY requested_at, id').all() as Record<string, string | null>[];
    return rows.map((row) => ({
      id: row.id!,
      operation: row.operation as Approval['operation'],
      ...(row.key_name !== null ? { keyName: row.key_name! } : {}),
      ...(row.key_id !== null ? { keyId: row.key_id! } : {}),
      ...(row.target_state !== null ? { state: row.target_state as KeyState } : {}),
      requestedBy: row.requested_by!,
      requestedByPrincipal: row.requested_by_principal!,
      requestedAt: row.requested_at!,
      expiresAt: row.expires_at!,
      status: row.status as ApprovalStatus,
      ...(row.decided_by !== null ? { decidedBy: row.decided_by! } : {}),
      ...(row.decided_at !== null ? { decidedAt: row.decided_at! } : {}),
    }));
  }

  decideApproval(id: string, status: Exclude<ApprovalStatus, 'pending'>, by: string, at: string): boolean {
    return this.#write(() => this.#db.prepare("UPDATE approvals SET status = ?, decided_by = ?, decided_at = ? WHERE id = ? AND status = 'pending'").run(status, by, at, id).changes === 1);
  }

  setEmergencyBlock(block: EmergencyBlock | undefined): boolean {
    return this.#write(() =>
      block === undefined
        ? this.#db.prepare('DELETE FROM emergency_block').run().changes === 1
        : this.#db.prepare('INSERT OR IGNORE INTO emergency_block (id, since, by) VALUES (1, ?, ?)').run(block.since, block.by).changes === 1,
    );
  }

  findKey(name: string): KeyRecord | undefined {
    return this.#current().get(name);
  }

  listKeys(): KeyRecord[] {
    return [...this.#current().values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  addVersion(version: NewKeyVersion, at: string): AddVersionResult {
    return this.#write((): AddVersionResult => {
      const db = this.#db;
      // The preconditions are read inside the write transaction: two CLIs racing on one name serialise here.
      const exists = db.prepare('SELECT 1 FROM key_names WHERE name = ?').get(version.name) !== undefined;
      if (version.nameMustBe === 'new' && exists) return 'name-exists';
      if (version.nameMustBe === 'existing' && !exists) return 'name-missing';
      if (db.prepare('SELECT 1 FROM key_versions WHERE name = ? AND key_id = ?').get(version.name, version.keyId) !== undefined) {
        return 'version-exists';
      }
      if (!exists) db.prepare('INSERT INTO key_names (name, published_key_id, created_at) VALUES (?, NULL, ?)').run(version.name, at);
      const allow = version.allow ?? { users: [], groups: [], roles: [] };
      for (const kind of ['users', 'groups', 'roles'] as const) {
        for (const value of allow[kind]) this.#insertGrant(version.name, kind, value);
      }
      const seq = (db.prepare('SELECT COALESCE(MAX(seq), 0) + 1 AS s FROM key_versions').get() as { s: number }).s;
      db.prepare(
        `INSERT INTO key_versions (name, key_id, state, enabled, origin, created_at, state_changed_at, seq, public_modulus, public_exponent)
         VALUES (?, ?, ?, 1, ?, ?, ?, ?, ?, ?)`,
      ).run(version.name, version.keyId, version.state, version.origin, at, at, seq, version.publicKey.modulus, version.publicKey.publicExponent);
      if (version.publish === true || (version.publish === 'if-new-name' && !exists)) db.prepare('UPDATE key_names SET published_key_id = ? WHERE name = ?').run(version.keyId, version.name);
      version.then?.();
      return 'added';
    });
  }

  /** Runs `work` (store writes and audit entries) in one IMMEDIATE transaction: all of it commits, or none. */
  atomically<T>(work: () => T): T {
    return this.#write(work);
  }

  setState(name: string, keyId: string, expected: KeyState, next: KeyState, at: string): boolean {
    return this.#write(
      () =>
        this.#db
          .prepare('UPDATE key_versions SET state = ?, state_changed_at = ? WHERE name = ? AND key_id = ? AND state = ?')
          .run(next, at, name, keyId, expected).changes === 1,
    );
  }

  setEnabled(name: string, keyId: string, enabled: boolean, at: string): boolean {
    return this.#write(() =>
      this.#db
        .prepare("UPDATE key_versions SET enabled = ?, state_changed_at = ? WHERE name = ? AND key_id = ? AND state != 'destroyed'")
        .run(enabled ? 1 : 0, at, name, keyId).changes === 1,
    );
  }

  scheduleDeletion(name: string, keyId: string, expected: KeyState, deletion: DeletionSchedule): boolean {
    return this.#write(() =>
      this.#db
        .prepare('UPDATE key_versions SET deletion_requested_at = ?, destroy_at = ? WHERE name = ? AND key_id = ? AND state = ? AND destroy_at IS NULL')
        .run(deletion.requestedAt, deletion.destroyAt, name, keyId, expected).changes === 1,
    );
  }

  cancelDeletion(name: string, keyId: string): boolean {
    return this.#write(() =>
      this.#db
        .prepare("UPDATE key_versions SET deletion_requested_at = NULL, destroy_at = NULL WHERE name = ? AND key_id = ? AND destroy_at IS NOT NULL AND state <> 'destroyed'")
        .run(name, keyId).changes === 1,
    );
  }

  finishDeletion(name: string, keyId: string): void {
    this.#write(() => {
      this.#db.prepare('UPDATE key_versions SET deletion_requested_at = NULL, destroy_at = NULL WHERE name = ? AND key_id = ?').run(name, keyId);
    });
  }

  jobLeaseHolder(job: string): string | undefined {
    return (this.#db.prepare('SELECT owner FROM job_leases WHERE job = ?').get(job) as { owner: string } | undefined)?.owner;
  }

  claimJobLease(job: string, owner: string, now: string, until: string, takeOverFrom?: string): boolean {
    return this.#db
      .transaction(() => {
        const held = this.#db.prepare('SELECT owner, until FROM job_leases WHERE job = ?').get(job) as { owner: string; until: string } | undefined;
        if (held !== undefined && held.owner !== owner && held.owner !== takeOverFrom && held.until > now) return false;
        this.#db.prepare('INSERT INTO job_leases (job, owner, until) VALUES (?, ?, ?) ON CONFLICT(job) DO UPDATE SET owner = excluded.owner, until = excluded.until').run(job, owner, until);
        return true;
      })
      .immediate();
  }

  setPublished(name: string, keyId: string): void {
    this.#write(() => {
      this.#db.prepare('UPDATE key_names SET published_key_id = ? WHERE name = ?').run(keyId, name);
    });
  }

  setPublicKey(name: string, keyId: string, publicKey: RsaPublicKey): void {
    this.#write(() => {
      this.#db
        .prepare('UPDATE key_versions SET public_modulus = ?, public_exponent = ? WHERE name = ? AND key_id = ?')
        .run(publicKey.modulus, publicKey.publicExponent, name, keyId);
    });
  }

  grant(name: string, kind: keyof AllowList, value: string): boolean {
    return this.#write(() => this.#insertGrant(name, kind, value));
  }

  revoke(name: string, kind: keyof AllowList, value: string): boolean {
    return this.#write(() =>
      this.#db.prepare('DELETE FROM grants WHERE name = ? AND kind = ? AND value = ?').run(name, kind, normaliseGrant(kind, value))
        .changes === 1,
    );
  }

  #insertGrant(name: string, kind: keyof AllowList, value: string): boolean {
    return (
      this.#db.prepare('INSERT OR IGNORE INTO grants (name, kind, value) VALUES (?, ?, ?)').run(name, kind, normaliseGrant(kind, value))
        .changes === 1
    );
  }

  /** Runs a write in an IMMEDIATE transaction (it takes the write lock first), drops the snapshot, returns its result. */
  #write<T>(work: () => T): T {
    const result = adminWrite(this.#db, () => this.#db.transaction(work).immediate());
    this.#snapshot = undefined;
    return result;
  }

  /** A store that cannot be read (corrupt page, lock held in exclusive mode) is a 503 for callers, never a 500. */
  #current(): Map<string, KeyRecord> {
    try {
      const version = dataVersion(this.#db);
      if (this.#snapshot === undefined || version !== this.#snapshotVersion) {
        this.#snapshot = this.#readAll();
        const block = this.#db.prepare('SELECT since, by FROM emergency_block WHERE id = 1').get() as EmergencyBlock | undefined;
        this.#block = block === undefined ? undefined : { since: block.since, by: block.by };
        this.#snapshotVersion = version;
      }
      return this.#snapshot;
    } catch (error) {
      throw new StoreUnavailable(`the key-state store cannot be read: ${describeSqliteError(error)}`);
    }
  }

  #readAll(): Map<string, KeyRecord> {
    const read = this.#db.transaction(() => {
      const names = this.#db.prepare('SELECT name, published_key_id, rotation_every FROM key_names').all() as {
        rotation_every: string | null;
        name: string;
        published_key_id: string | null;
      }[];
      const versions = this.#db.prepare('SELECT * FROM key_versions ORDER BY seq').all() as VersionRow[];
      const grants = this.#db.prepare('SELECT name, kind, value FROM grants ORDER BY value').all() as {
        name: string;
        kind: keyof AllowList;
        value: string;
      }[];
      return { names, versions, grants };
    });
    const { names, versions, grants } = read();
    const records = new Map<string, KeyRecord>();
    for (const row of names) {
      const allow = { users: [] as string[], groups: [] as string[], roles: [] as string[] };
      for (const g of grants) if (g.name === row.name) allow[g.kind].push(g.value);
      records.set(row.name, {
        name: row.name,
        publishedKeyId: row.published_key_id ?? undefined,
        ...(row.rotation_every !== null ? { rotationEvery: row.rotation_every } : {}),
        allow,
        versions: versions.filter((v) => v.name === row.name).map(toVersion),
      });
    }
    return records;
  }
}

function toVersion(row: VersionRow): KeyVersion {
  return {
    name: row.name,
    keyId: row.key_id,
    state: row.state,
    enabled: row.enabled === 1,
    origin: row.origin,
    createdAt: row.created_at,
    stateChangedAt: row.state_changed_at,
    ...(row.public_modulus !== null && row.public_exponent !== null
      ? { publicKey: { modulus: Buffer.from(row.public_modulus), publicExponent: Buffer.from(row.public_exponent) } }
      : {}),
    ...(row.destroy_at !== null ? { deletion: { requestedAt: row.deletion_requested_at ?? row.destroy_at, destroyAt: row.destroy_at } } : {}),
  };
}

/** User names and group object ids compare case-insensitively; app role values are kept as written. */
export function normaliseGrant(kind: keyof AllowList, value: string): string {
  return kind === 'roles' ? value.trim() : value.trim().toLowerCase();
}
