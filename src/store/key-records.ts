import type { AllowList, KeyRecord, KeyVersion } from '../keys/key-version.js';
import type { AdminPolicy } from '../keys/admin-policy.js';
import type { EmergencyBlock } from '../keys/ports.js';
import type { Selectable } from './kysely.js';
import { DEFAULT_VAULT } from '../keys/vaults.js';
import type { StoreTables } from './schema.js';

type NameRow = Pick<StoreTables['key_names'], 'name' | 'published_key_id' | 'rotation_every'>;
type VersionRow = Selectable<StoreTables['key_versions']>;
type GrantRow = StoreTables['grants'];

/** What the decrypt and GET paths read: every key record and the kill switch, as of one store version. */
export interface StoreSnapshot {
  /** The store's change counter when this was read (store_version). */
  readonly version: number;
  readonly records: ReadonlyMap<string, KeyRecord>;
  /** The records sorted by name (listKeys), built once per snapshot. */
  readonly sorted: readonly KeyRecord[];
  readonly block: EmergencyBlock | undefined;
  /** The admin policy (contract §10); undefined until the store is given one (app/stored-policy.ts). */
  readonly policy: AdminPolicy | undefined;
}

/**
 * The snapshot's queries: no parameters, the same text on both engines, run in one read transaction (SQLite's
 * reader connection runs them synchronously, PostgreSQL in a REPEATABLE READ transaction).
 */
export const SNAPSHOT_QUERIES = {
  version: 'SELECT version FROM store_version WHERE id = 1',
  names: 'SELECT name, published_key_id, rotation_every FROM key_names',
  versions: 'SELECT * FROM key_versions ORDER BY seq',
  grants: 'SELECT name, kind, value FROM grants ORDER BY value',
  block: 'SELECT since, "by" FROM emergency_block WHERE id = 1',
  policy: 'SELECT * FROM admin_policy WHERE id = 1',
} as const;

export type SnapshotRows = { readonly [K in keyof typeof SNAPSHOT_QUERIES]: readonly unknown[] };

/** Builds a snapshot (new, immutable objects) from the rows of SNAPSHOT_QUERIES. */
export function snapshotFrom(rows: SnapshotRows): StoreSnapshot {
  const records = recordsFrom(rows.names as NameRow[], rows.versions as VersionRow[], rows.grants as GrantRow[]);
  const block = rows.block[0] as { since: string; by: string } | undefined;
  return {
    version: Number((rows.version[0] as { version: number | string } | undefined)?.version ?? 0),
    records,
    sorted: Object.freeze([...records.values()].sort((a, b) => a.name.localeCompare(b.name))),
    block: block === undefined ? undefined : Object.freeze({ since: block.since, by: block.by }),
    policy: policyFrom(rows.policy[0] as PolicyRow | undefined),
  };
}

type PolicyRow = StoreTables['admin_policy'];

/** The policy row as the domain reads it (PostgreSQL answers BIGINT columns as strings). */
export function policyFrom(row: PolicyRow | undefined): AdminPolicy | undefined {
  if (row === undefined) return undefined;
  return Object.freeze({
    approvalsRequired: Number(row.approvals_required) === 2 ? 2 : 1,
    deletionWindowDefaultMs: Number(row.deletion_window_default_ms),
    deletionWindowMinimumMs: Number(row.deletion_window_minimum_ms),
    rotationMinimumMs: Number(row.rotation_minimum_ms),
    appOnlyMayApprove: Number(row.app_only_may_approve) === 1,
  });
}

/** The row a policy is written as. */
export function policyRow(policy: AdminPolicy): PolicyRow {
  return {
    id: 1,
    approvals_required: policy.approvalsRequired,
    deletion_window_default_ms: policy.deletionWindowDefaultMs,
    deletion_window_minimum_ms: policy.deletionWindowMinimumMs,
    rotation_minimum_ms: policy.rotationMinimumMs,
    app_only_may_approve: policy.appOnlyMayApprove ? 1 : 0,
  };
}

/** Key records from their rows (versions in creation order, grants sorted by value). */
export function recordsFrom(names: readonly NameRow[], versions: readonly VersionRow[], grants: readonly GrantRow[]): Map<string, KeyRecord> {
  const records = new Map<string, KeyRecord>();
  for (const row of names) {
    const allow = { users: [] as string[], groups: [] as string[], roles: [] as string[] };
    for (const g of grants) if (g.name === row.name) allow[g.kind].push(g.value);
    records.set(
      row.name,
      Object.freeze({
        name: row.name,
        publishedKeyId: row.published_key_id ?? undefined,
        ...(row.rotation_every !== null ? { rotationEvery: row.rotation_every } : {}),
        allow: Object.freeze(allow) as AllowList,
        versions: Object.freeze(versions.filter((v) => v.name === row.name).map(toVersion)),
      }),
    );
  }
  return records;
}

function toVersion(row: VersionRow): KeyVersion {
  return Object.freeze({
    name: row.name,
    keyId: row.key_id,
    state: row.state,
    enabled: Number(row.enabled) === 1,
    origin: row.origin,
    createdAt: row.created_at,
    stateChangedAt: row.state_changed_at,
    // A row read before this process migrated its store (an older snapshot) has no vault yet: it is in `default`.
    vault: row.vault ?? DEFAULT_VAULT,
    ...(row.public_modulus !== null && row.public_exponent !== null
      ? { publicKey: { modulus: Buffer.from(row.public_modulus), publicExponent: Buffer.from(row.public_exponent) } }
      : {}),
    ...(row.destroy_at !== null ? { deletion: { requestedAt: row.deletion_requested_at ?? row.destroy_at, destroyAt: row.destroy_at } } : {}),
  });
}

/** User names and group object ids compare case-insensitively; app role values are kept as written. */
export function normaliseGrant(kind: keyof AllowList, value: string): string {
  return kind === 'roles' ? value.trim() : value.trim().toLowerCase();
}
