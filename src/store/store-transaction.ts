import type { Transaction } from './kysely.js';
import type { AllowList, DeletionSchedule, KeyRecord, KeyState, RsaPublicKey } from '../keys/key-version.js';
import type { AdminPolicy } from '../keys/admin-policy.js';
import type { AddVersionResult, Approval, ApprovalStatus, AuditEvent, EmergencyBlock, Intent, NewIntent, NewKeyVersion, StoreTransaction, VersionMarker } from '../keys/ports.js';
import { appendAuditEntries } from './audit-entries.js';
import { normaliseGrant, policyFrom, policyRow, recordsFrom } from './key-records.js';
import { DEFAULT_VAULT } from '../keys/vaults.js';
import type { StoreTables } from './schema.js';

/** Rows changed by an UPDATE or DELETE, as both engines report it. */
function changed(result: { numUpdatedRows?: bigint; numDeletedRows?: bigint; numInsertedOrUpdatedRows?: bigint } | readonly unknown[]): number {
  if (Array.isArray(result)) return result.length;
  const r = result as { numUpdatedRows?: bigint; numDeletedRows?: bigint };
  return Number(r.numUpdatedRows ?? r.numDeletedRows ?? 0n);
}

/**
 * StoreTransaction over one Kysely transaction, the same code on SQLite and PostgreSQL. Every change is written
 * compare-and-set on the state it names (its WHERE clause), so a change read stale by its caller touches no row and
 * reports false; the caller then refuses with a sentence saying what changed.
 */
export class KyselyStoreTransaction implements StoreTransaction {
  readonly #trx: Transaction<StoreTables>;
  readonly #now: () => Date;

  constructor(trx: Transaction<StoreTables>, now: () => Date) {
    this.#trx = trx;
    this.#now = now;
  }

  /** An UPDATE of one version's row: every conditional change below adds its own WHERE on the state it read. */
  #updateVersion(name: string, keyId: string) {
    // Every write of the row bumps its row_version: a proposal bound to the row sees any change (issue 26).
    return this.#trx
      .updateTable('key_versions')
      .set((eb) => ({ row_version: eb('row_version', '+', 1) }))
      .where('name', '=', name)
      .where('key_id', '=', keyId);
  }

  async versionMarker(name: string, keyId: string): Promise<VersionMarker | undefined> {
    const row = await this.#trx.selectFrom('key_versions').select(['state', 'row_version']).where('name', '=', name).where('key_id', '=', keyId).executeTakeFirst();
    return row === undefined ? undefined : { state: row.state, rowVersion: Number(row.row_version) };
  }

  async emergencyBlockNow(): Promise<EmergencyBlock | undefined> {
    return this.#trx.selectFrom('emergency_block').select(['since', 'by']).where('id', '=', 1).executeTakeFirst();
  }

  async policyNow(): Promise<AdminPolicy | undefined> {
    return policyFrom(await this.#trx.selectFrom('admin_policy').selectAll().where('id', '=', 1).executeTakeFirst());
  }

  async seedPolicy(policy: AdminPolicy): Promise<boolean> {
    const inserted = await this.#trx.insertInto('admin_policy').values(policyRow(policy)).onConflict((oc) => oc.column('id').doNothing()).returning('id').execute();
    return inserted.length === 1;
  }

  async setPolicy(expected: AdminPolicy, next: AdminPolicy): Promise<boolean> {
    const was = policyRow(expected);
    const { id: _id, ...values } = policyRow(next);
    const result = await this.#trx
      .updateTable('admin_policy')
      .set(values)
      .where('id', '=', 1)
      .where('approvals_required', '=', was.approvals_required)
      .where('deletion_window_default_ms', '=', was.deletion_window_default_ms)
      .where('deletion_window_minimum_ms', '=', was.deletion_window_minimum_ms)
      .where('rotation_minimum_ms', '=', was.rotation_minimum_ms)
      .where('app_only_may_approve', '=', was.app_only_may_approve)
      .executeTakeFirst();
    return changed(result) === 1;
  }

  async pendingApprovalLike(approval: Pick<Approval, 'operation' | 'keyName' | 'keyId' | 'state' | 'proposed'>, now: string): Promise<string | undefined> {
    const row = await this.#trx
      .selectFrom('approvals')
      .select('id')
      .where('status', '=', 'pending')
      .where('expires_at', '>', now)
      .where('operation', '=', approval.operation)
      .where('key_name', 'is not distinct from', approval.keyName ?? null)
      .where('key_id', 'is not distinct from', approval.keyId ?? null)
      .where('target_state', 'is not distinct from', approval.state ?? null)
      .where('proposed', 'is not distinct from', approval.proposed !== undefined ? JSON.stringify(approval.proposed) : null)
      .orderBy('requested_at')
      .executeTakeFirst();
    return row?.id;
  }

  async findKey(name: string): Promise<KeyRecord | undefined> {
    const trx = this.#trx;
    const names = await trx.selectFrom('key_names').select(['name', 'published_key_id', 'rotation_every']).where('name', '=', name).execute();
    if (names.length === 0) return undefined;
    const versions = await trx.selectFrom('key_versions').selectAll().where('name', '=', name).orderBy('seq').execute();
    const grants = await trx.selectFrom('grants').select(['name', 'kind', 'value']).where('name', '=', name).orderBy('value').execute();
    return recordsFrom(names, versions, grants).get(name);
  }

  async addVersion(version: NewKeyVersion, at: string): Promise<AddVersionResult> {
    const trx = this.#trx;
    // The preconditions are read inside the write transaction: two CLIs racing on one name serialise here.
    const exists = (await trx.selectFrom('key_names').select('name').where('name', '=', version.name).executeTakeFirst()) !== undefined;
    if (version.nameMustBe === 'new' && exists) return 'name-exists';
    if (version.nameMustBe === 'existing' && !exists) return 'name-missing';
    const same = await trx.selectFrom('key_versions').select('key_id').where('name', '=', version.name).where('key_id', '=', version.keyId).executeTakeFirst();
    if (same !== undefined) return 'version-exists';
    if (!exists) await trx.insertInto('key_names').values({ name: version.name, published_key_id: null, created_at: at, rotation_every: null }).execute();
    const allow = version.allow ?? { users: [], groups: [], roles: [] };
    for (const kind of ['users', 'groups', 'roles'] as const) {
      for (const value of allow[kind]) await this.grant(version.name, kind, value);
    }
    const { next } = await trx.selectFrom('key_versions').select((eb) => eb(eb.fn.coalesce(eb.fn.max('seq'), eb.lit(0)), '+', 1).as('next')).executeTakeFirstOrThrow();
    await trx
      .insertInto('key_versions')
      .values({
        name: version.name,
        key_id: version.keyId,
        state: version.state,
        enabled: 1,
        origin: version.origin,
        created_at: at,
        state_changed_at: at,
        seq: Number(next),
        public_modulus: version.publicKey.modulus,
        public_exponent: version.publicKey.publicExponent,
        deletion_requested_at: null,
        destroy_at: null,
        last_used_at: null,
        vault: version.vault ?? DEFAULT_VAULT,
      })
      .execute();
    if (version.publish === true || (version.publish === 'if-new-name' && !exists)) await this.setPublished(version.name, version.keyId);
    return 'added';
  }

  async setState(name: string, keyId: string, expected: KeyState, next: KeyState, at: string): Promise<boolean> {
    const result = await this.#updateVersion(name, keyId)
      .set({ state: next, state_changed_at: at })
      .where('state', '=', expected)
      .executeTakeFirst();
    return changed(result) === 1;
  }

  async setEnabled(name: string, keyId: string, enabled: boolean, at: string): Promise<boolean> {
    const result = await this.#updateVersion(name, keyId)
      .set({ enabled: enabled ? 1 : 0, state_changed_at: at })
      .where('state', '!=', 'destroyed')
      .executeTakeFirst();
    return changed(result) === 1;
  }

  async scheduleDeletion(name: string, keyId: string, expected: KeyState, deletion: DeletionSchedule): Promise<boolean> {
    const result = await this.#updateVersion(name, keyId)
      .set({ deletion_requested_at: deletion.requestedAt, destroy_at: deletion.destroyAt })
      .where('state', '=', expected)
      .where('destroy_at', 'is', null)
      .executeTakeFirst();
    return changed(result) === 1;
  }

  async cancelDeletion(name: string, keyId: string): Promise<boolean> {
    const result = await this.#updateVersion(name, keyId)
      .set({ deletion_requested_at: null, destroy_at: null })
      .where('destroy_at', 'is not', null)
      .where('state', '<>', 'destroyed')
      .executeTakeFirst();
    return changed(result) === 1;
  }

  async finishDeletion(name: string, keyId: string): Promise<void> {
    await this.#updateVersion(name, keyId).set({ deletion_requested_at: null, destroy_at: null }).execute();
  }

  async setPublished(name: string, keyId: string): Promise<void> {
    await this.#trx.updateTable('key_names').set({ published_key_id: keyId }).where('name', '=', name).execute();
  }

  async setPublicKey(name: string, keyId: string, publicKey: RsaPublicKey): Promise<void> {
    await this.#updateVersion(name, keyId)
      .set({ public_modulus: publicKey.modulus, public_exponent: publicKey.publicExponent })
      .execute();
  }

  async grant(name: string, kind: keyof AllowList, value: string): Promise<boolean> {
    const inserted = await this.#trx
      .insertInto('grants')
      .values({ name, kind, value: normaliseGrant(kind, value) })
      .onConflict((oc) => oc.columns(['name', 'kind', 'value']).doNothing())
      .returning('value')
      .execute();
    return inserted.length === 1;
  }

  async revoke(name: string, kind: keyof AllowList, value: string): Promise<boolean> {
    const result = await this.#trx.deleteFrom('grants').where('name', '=', name).where('kind', '=', kind).where('value', '=', normaliseGrant(kind, value)).executeTakeFirst();
    return changed(result) === 1;
  }

  async setRotation(name: string, every: string | undefined): Promise<boolean> {
    const result = await this.#trx
      .updateTable('key_names')
      .set({ rotation_every: every ?? null })
      .where('name', '=', name)
      .where('rotation_every', 'is distinct from', every ?? null)
      .executeTakeFirst();
    return changed(result) === 1;
  }

  async setEmergencyBlock(block: EmergencyBlock | undefined, liftOnlySince?: string): Promise<boolean> {
    if (block === undefined) {
      const lift = this.#trx.deleteFrom('emergency_block');
      return changed(await (liftOnlySince === undefined ? lift : lift.where('since', '=', liftOnlySince)).executeTakeFirst()) === 1;
    }
    const inserted = await this.#trx
      .insertInto('emergency_block')
      .values({ id: 1, since: block.since, by: block.by })
      .onConflict((oc) => oc.column('id').doNothing())
      .returning('id')
      .execute();
    return inserted.length === 1;
  }

  async addApproval(approval: Approval): Promise<void> {
    await this.#trx
      .insertInto('approvals')
      .values({
        id: approval.id,
        operation: approval.operation,
        key_name: approval.keyName ?? null,
        key_id: approval.keyId ?? null,
        target_state: approval.state ?? null,
        requested_by: approval.requestedBy,
        requested_by_principal: approval.requestedByPrincipal,
        requested_at: approval.requestedAt,
        expires_at: approval.expiresAt,
        status: approval.status,
        decided_by: null,
        decided_at: null,
        bound_to: approval.boundTo !== undefined ? JSON.stringify(approval.boundTo) : null,
        proposed: approval.proposed !== undefined ? JSON.stringify(approval.proposed) : null,
      })
      .execute();
  }

  async decideApproval(id: string, status: Exclude<ApprovalStatus, 'pending'>, by: string, at: string): Promise<boolean> {
    const result = await this.#trx.updateTable('approvals').set({ status, decided_by: by, decided_at: at }).where('id', '=', id).where('status', '=', 'pending').executeTakeFirst();
    return changed(result) === 1;
  }

  async audit(event: AuditEvent): Promise<void> {
    await appendAuditEntries(this.#trx, [{ at: this.#now().toISOString(), event }]);
  }

  async beginIntent(intent: NewIntent): Promise<Intent> {
    const details = intent.details ?? {};
    const { id } = await this.#trx
      .insertInto('intents')
      .values({
        action: intent.action,
        name: intent.name,
        key_id: intent.keyId,
        actor: intent.actor,
        owner: intent.owner,
        created_at: intent.createdAt,
        details: JSON.stringify(details),
        lease_until: intent.leaseUntil,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    return { ...intent, id: Number(id), details };
  }

  async finishIntent(id: number): Promise<void> {
    await this.#trx.deleteFrom('intents').where('id', '=', id).execute();
  }

  async pendingIntents(): Promise<Intent[]> {
    return pendingIntents(this.#trx);
  }

  async takeOverIntent(from: Intent, owner: string, now: string, until: string): Promise<boolean> {
    if (from.leaseUntil > now) return false;
    // Compare-and-set on the holder and lease as read: a renewal or another taker in between wins.
    const result = await this.#trx
      .updateTable('intents')
      .set({ owner, lease_until: until })
      .where('id', '=', from.id)
      .where('owner', '=', from.owner)
      .where('lease_until', '=', from.leaseUntil)
      .executeTakeFirst();
    return changed(result) === 1;
  }
}

/** Every intent not finished yet, oldest first. */
export async function pendingIntents(db: Pick<Transaction<StoreTables>, 'selectFrom'>): Promise<Intent[]> {
  const rows = await db.selectFrom('intents').selectAll().orderBy('id').execute();
  return rows.map((row) => ({
    id: Number(row.id),
    action: row.action as Intent['action'],
    name: row.name,
    keyId: row.key_id,
    actor: row.actor,
    owner: row.owner,
    createdAt: row.created_at,
    leaseUntil: row.lease_until,
    details: JSON.parse(row.details) as Intent['details'],
  }));
}
