import { randomUUID } from 'node:crypto';
import { AdminConflict, AdminNotFound, SamePrincipal, AdminRefused, KeyAlreadyInToken } from '../keys/errors.js';
import { userEntryProblem } from '../keys/access-policy.js';
import type { AllowList, KeyRecord, KeyState, KeyVersion } from '../keys/key-version.js';
import {
  canToggleEnabled,
  clearsDecryptInToken,
  DEFAULT_INITIAL_STATE,
  DELETED_STATE,
  hasObjectsInToken,
  INITIAL_STATES,
  isDeletion,
  isPermanentTransition,
  isTransitionAllowed,
  permanentEffectSentence,
  refusedTransitionSentence,
  servedVersion,
  STATE_RULES,
  stateLabel,
  stateList,
} from '../keys/lifecycle.js';
import { keyIdProblem, keyNameProblem } from '../keys/names.js';
import { spanMs } from '../keys/durations.js';
import type { Approval, ArchiveCheck, ArchiveResult, AuditArchiver, AuditEntry, AuditEvent, AuditReader, AuditTrail, AuditVerification, Intent, IntentAction, KeyStateStore, KeyVault, KeyVersionRef, NewIntent, StoreTransaction } from '../keys/ports.js';
import { AdminAudit } from './admin-audit.js';
import { cachedPublicKeyNotice } from './cached-public-key-notice.js';
import { attestationOf, type VersionAttestation } from './key-attestation.js';
import { addVersionRefusal, unfinishedStepOn, toView, type CreatedVersion, type EmergencyBlockView, approvalView, type ApprovalView, type Proposed, type ImpactPreview, type KeyView, type StateChangeOutcome, type VersionSummary } from './key-admin-views.js';
import { importKey, type ImportOptions } from './key-import.js';
import { reconcile, type ReconcileReport } from './key-reconcile.js';
import type { PrivateKeyMaterial } from './private-key-material.js';
import { migrateReference, type MigrationReport } from './reference-migration.js';
import type { ReferenceSettings } from './reference-settings.js';

/** How far back the impact preview looks for decrypts with a version. */
const IMPACT_WINDOW_DAYS = 30;

export interface KeyAdminDeps {
  readonly store: KeyStateStore;
  readonly vault: KeyVault;
  readonly audit: AuditTrail & AuditReader & AuditArchiver;
  /** Who runs the command: the OS user or DKE_ADMIN_ACTOR for the CLI, an admin identity otherwise. */
  readonly actor: string;
  /** `host:pid` of this process, written into its intents. */
  readonly owner?: string;
  /** Is the process that wrote an intent still running (then its intent is not a reconcile's business)? */
  readonly isOwnerAlive?: (owner: string) => boolean;
  /** Test seam (main/test-seams.ts): called after each step of an operation that touches the token. */
  readonly afterStep?: (step: string) => void;
  /** DKE_DELETION_WINDOW: how long a deleted version waits before its HSM objects are destroyed (0 or absent: at once). */
  readonly deletionWindowMs?: number;
  /** DKE_APPROVALS_REQUIRED: 2 makes irreversible steps and lifting the kill switch proposals for a second admin. */
  readonly approvalsRequired?: 1 | 2;
  /** DKE_APPROVAL_TTL in ms: how long a proposal waits for its approval (default 24 h). */
  readonly approvalTtlMs?: number;
  /** Who the caller is for the two-person rule: the token's oid on the admin API; absent: the actor (CLI). */
  readonly principal?: string;
  readonly now?: () => Date;
  /** DKE_PUBLIC_KEY_CACHE_HOURS, for the notice given when the served version is blocked (default 24). */
  readonly publicKeyCacheHours?: number;
}

export interface CreateKeyOptions {
  /** One of the table's initial states (keys/lifecycle.ts); default Active. */
  readonly state?: KeyState;
  readonly allow?: AllowList;
  readonly keyId?: string;
}

/**
 * The key-admin service (contract §3, §4): every administrative operation on key names and versions, and the only
 * door to them for the CLI today and the admin API next. Each operation records its audit entry through AdminAudit,
 * succeeded or refused, with who ran it. State changes ask the state table (keys/lifecycle.ts) what is allowed.
 */
export class KeyAdmin {
  readonly #deps: KeyAdminDeps;
  readonly #now: () => Date;
  readonly #audit: AdminAudit;
  /** True while an approved proposal runs: its step is not proposed again. */
  #executing = false;

  constructor(deps: KeyAdminDeps) {
    this.#deps = deps;
    this.#now = deps.now ?? (() => new Date());
    this.#audit = new AdminAudit(deps.audit, deps.actor);
  }

  /** Generates a new key name's first version inside the HSM and publishes it. */
  async create(name: string, options: CreateKeyOptions = {}): Promise<CreatedVersion> {
    const problem = keyNameProblem(name);
    if (problem !== undefined) throw await this.#audit.refusal('create', name, problem);
    if (this.#deps.store.findKey(name) !== undefined) {
      throw await this.#audit.refusal('create', name, `The key name "${name}" exists already; use "dke keys rotate ${name}" for a new version.`, undefined, AdminConflict);
    }
    return this.#generateVersion(name, options, 'create');
  }

  /** A new Active version generated in the HSM becomes the published one; older versions keep decrypting. */
  async rotate(name: string): Promise<CreatedVersion> {
    await this.#requireKey(name);
    return this.#generateVersion(name, {}, 'rotate');
  }

  /** Bring your own key (`dke keys import`): see key-import.ts. */
  async importKey(name: string, material: PrivateKeyMaterial, options: ImportOptions): Promise<CreatedVersion> {
    try {
      await this.#assertUserEntries('import', name, options.allow);
    } catch (error) {
      material.wipe();
      throw error;
    }
    return importKey(this.#deps, this.#audit, name, material, options);
  }

  /** `dke import-reference`: see reference-migration.ts. Grants go through `grant`, so they are audited too. */
  async migrateReference(settings: ReferenceSettings, dryRun: boolean): Promise<MigrationReport> {
    const report = await migrateReference(
      this.#deps,
      {
        // The reference's address lists are kept as they are (with GUEST_NOTE), as the migration report says.
        importKey: (name, material, options) => importKey(this.#deps, this.#audit, name, material, options),
        grant: (name, kind, value) => this.grant(name, kind, value),
      },
      settings,
      dryRun,
    );
    const imported = report.steps.filter((step) => step.action === 'import').length;
    await this.#audit.succeeded('import-reference', undefined, undefined, { dryRun, imported, unchanged: report.steps.length - imported });
    return report;
  }

  /** The reversible block (contract §4): never revives a Deactivated, Compromised or Destroyed version. */
  async setEnabled(name: string, keyId: string, enabled: boolean): Promise<VersionSummary> {
    const action = enabled ? 'enable' : 'disable';
    const version = await this.#requireVersion(action, name, keyId);
    if (!canToggleEnabled(version.state)) {
      throw await this.#audit.refusal(action, name, `Version ${keyId} of "${name}" is Destroyed; there is nothing to ${action}.`, keyId, AdminConflict);
    }
    const blocksServed = !enabled && this.#isServed(name, keyId);
    // Written compare-and-set with its audit entry in one transaction: a version destroyed meanwhile is refused.
    const changed = await this.#deps.store.change(async (tx) => {
      if (!(await tx.setEnabled(name, keyId, enabled, this.#now().toISOString()))) return false;
      await this.#audit.within(tx).succeeded(action, name, keyId, { from: version.enabled ? 'enabled' : 'disabled', to: enabled ? 'enabled' : 'disabled', state: version.state });
      return true;
    });
    if (!changed) throw await this.#audit.refusal(action, name, `Version ${keyId} of "${name}" was destroyed meanwhile; there is nothing to ${action}.`, keyId, AdminConflict);
    return { name, keyId, state: version.state, enabled, ...this.#cachedKeyNotice(blocksServed, name, keyId) };
  }

  grant(name: string, kind: keyof AllowList, value: string): Promise<boolean> {
    return this.#changeGrant('grant', name, kind, value);
  }

  revoke(name: string, kind: keyof AllowList, value: string): Promise<boolean> {
    return this.#changeGrant('revoke', name, kind, value);
  }

  /**
   * The permanent steps of contract §4 are checked against the state table, previewed with their impact from the
   * audit trail unless confirmed (`--yes`), written compare-and-set, made physical in the token where it allows
   * (CKA_DECRYPT cleared), and audited.
   */
  async setState(name: string, keyId: string, to: KeyState, confirmed: boolean): Promise<StateChangeOutcome> {
    const version = await this.#requireVersion('set-state', name, keyId);
    if (isDeletion(to)) {
      throw await this.#audit.refusal('set-state', name, `Use "dke keys delete ${name} ${keyId} --yes" to destroy a key version.`, keyId);
    }
    if (!isTransitionAllowed(version.state, to)) {
      throw await this.#audit.refusal('set-state', name, refusedTransitionSentence(version.state, to), keyId, AdminConflict);
    }
    if (version.deletion !== undefined) {
      throw await this.#audit.refusal('set-state', name, `Version ${keyId} of "${name}" is scheduled for destruction at ${version.deletion.destroyAt}; cancel the deletion first ("dke keys cancel-deletion ${name} ${keyId}").`, keyId, AdminConflict);
    }
    if (isPermanentTransition(to) && !confirmed) return { applied: false, preview: await this.impactPreview(version, to) };
    if (isPermanentTransition(to) && this.#needsApproval()) return { applied: false, approval: await this.#propose('set-state', name, keyId, to) };
    const blocksServed = !STATE_RULES[to].publishable && this.#isServed(name, keyId);
    let decryptClearedInToken: boolean | undefined;
    let intent: Intent | undefined;
    if (clearsDecryptInToken(to)) {
      // Issue 17: intent, then the token step, then state + audit + end of intent in one transaction.
      intent = await this.#beginIntent('set-state', version, { from: version.state, to }, (tx) => this.#changedSince(tx, version));
      this.#deps.afterStep?.('set-state:intent');
      decryptClearedInToken = await this.#deps.vault.forbidDecrypt(version);
      this.#deps.afterStep?.('set-state:token');
    }
    await this.#completeStateChange(intent, version, to, 'set-state', decryptClearedInToken !== undefined ? { decryptClearedInToken } : {});
    return {
      applied: true,
      version: { name, keyId, state: to, enabled: version.enabled, ...this.#cachedKeyNotice(blocksServed, name, keyId) },
      ...(decryptClearedInToken !== undefined ? { decryptClearedInToken } : {}),
    };
  }

  /**
   * Destroys the version's private and public objects in the token and keeps the record as Destroyed, so its key
   * id answers 404 from then on and the audit trail still explains it. Only Pre-Active and Active versions.
   * Run again on a Destroyed version, it removes objects a failed earlier run may have left.
   */
  async delete(name: string, keyId: string, confirmed: boolean): Promise<StateChangeOutcome> {
    const version = await this.#requireVersion('delete', name, keyId);
    const retry = isDeletion(version.state);
    if (!retry && !isTransitionAllowed(version.state, DELETED_STATE)) {
      throw await this.#audit.refusal('delete', name, `Only Pre-Active and Active versions can be deleted; version ${keyId} is ${stateLabel(version.state)}.`, keyId, AdminConflict);
    }
    if (!retry && version.deletion !== undefined) {
      throw await this.#audit.refusal('delete', name, `Version ${keyId} of "${name}" is already scheduled for destruction at ${version.deletion.destroyAt}; "dke keys cancel-deletion ${name} ${keyId}" brings it back.`, keyId, AdminConflict);
    }
    if (!confirmed) return { applied: false, preview: await this.impactPreview(version, DELETED_STATE) };
    if (!retry && this.#needsApproval()) return { applied: false, approval: await this.#propose('delete', name, keyId) };
    const windowMs = this.#deps.deletionWindowMs ?? 0;
    if (retry || windowMs === 0) return this.#destroyNow(version, 'delete');
    // The deletion window (contract §4): from now on the version neither decrypts nor is published; its state,
    // Enabled flag and publication stay as they are, so cancel-deletion restores it exactly.
    const blocksServed = this.#isServed(name, keyId);
    const now = this.#now();
    const deletion = { requestedAt: now.toISOString(), destroyAt: new Date(now.getTime() + windowMs).toISOString() };
    const scheduled = await this.#deps.store.change(async (tx) => {
      if (!(await tx.scheduleDeletion(name, keyId, version.state, deletion))) return (await this.#changedSince(tx, version)) ?? `Version ${keyId} of "${name}" is already scheduled for destruction.`;
      await this.#audit.within(tx).succeeded('delete', name, keyId, { from: version.state, scheduled: true, destroyAt: deletion.destroyAt });
      return undefined;
    });
    if (scheduled !== undefined) throw await this.#audit.refusal('delete', name, scheduled, keyId, AdminConflict);
    const notice = this.#cachedKeyNotice(blocksServed, name, keyId);
    return { applied: true, version: { name, keyId, state: version.state, enabled: version.enabled, ...notice }, deletion };
  }

  /** Takes back a scheduled delete before its `destroyAt` (contract §4): the version is exactly as it was before. */
  async cancelDeletion(name: string, keyId: string): Promise<VersionSummary> {
    const version = await this.#requireVersion('cancel-deletion', name, keyId);
    if (version.deletion === undefined || isDeletion(version.state)) {
      throw await this.#audit.refusal('cancel-deletion', name, `Version ${keyId} of "${name}" has no deletion to cancel${isDeletion(version.state) ? ': it is Destroyed' : ''}.`, keyId, AdminConflict);
    }
    const cancelled = await this.#deps.store.change(async (tx) => {
      if (!(await tx.cancelDeletion(name, keyId))) return false;
      await this.#audit.within(tx).succeeded('cancel-deletion', name, keyId, { state: version.state, destroyAt: version.deletion?.destroyAt ?? null });
      return true;
    });
    if (!cancelled) throw await this.#audit.refusal('cancel-deletion', name, `Version ${keyId} of "${name}" was destroyed meanwhile.`, keyId, AdminConflict);
    return { name, keyId, state: version.state, enabled: version.enabled };
  }

  /**
   * The scheduler's half of the deletion window: every version whose `destroyAt` has come is destroyed in the HSM and
   * recorded Destroyed (action `destroy`), through the same crash-consistent steps as an immediate delete. A run that
   * died half-way is finished by the next: a version already Destroyed only has its leftovers removed and its
   * schedule closed; an intent left behind is the reconcile's (the caller runs it first).
   */
  async destroyDueVersions(): Promise<VersionSummary[]> {
    const now = this.#now().toISOString();
    const due = this.#deps.store.listKeys().flatMap((record) => record.versions.filter((v) => v.deletion !== undefined && v.deletion.destroyAt <= now));
    const destroyed: VersionSummary[] = [];
    for (const version of due) {
      if (!isDeletion(version.state) && !isTransitionAllowed(version.state, DELETED_STATE)) {
        // Cannot happen through KeyAdmin (set-state is refused while a deletion waits); recorded rather than guessed.
        await this.#deps.store.change(async (tx) => {
          await this.#audit.within(tx).refused('destroy', version.name, version.keyId, `Version ${version.keyId} is ${stateLabel(version.state)}; the scheduled destruction is dropped.`);
          await tx.finishDeletion(version.name, version.keyId);
        });
        continue;
      }
      await this.#destroyNow(version, 'destroy');
      destroyed.push({ name: version.name, keyId: version.keyId, state: DELETED_STATE, enabled: version.enabled });
    }
    return destroyed;
  }

  /**
   * Destroys the version's objects and records Destroyed. Issue 17: intent, then the objects destroyed, then state +
   * audit + end of intent (and of a deletion schedule) in one transaction; a crash in between leaves the intent for
   * the reconcile, which finishes the destruction. On a version already Destroyed it removes leftovers only.
   */
  async #destroyNow(version: KeyVersion, action: 'delete' | 'destroy'): Promise<StateChangeOutcome> {
    const { name, keyId } = version;
    const finishSchedule = async (tx: StoreTransaction): Promise<void> => {
      if (version.deletion !== undefined) await tx.finishDeletion(name, keyId);
    };
    if (isDeletion(version.state)) {
      const objectsDestroyed = await this.#deps.vault.destroy(version);
      await this.#deps.store.change(async (tx) => {
        await this.#audit.within(tx).succeeded(action, name, keyId, { from: version.state, to: DELETED_STATE, objectsDestroyed });
        await finishSchedule(tx);
      });
      return { applied: true, version: { name, keyId, state: DELETED_STATE, enabled: version.enabled }, objectsDestroyed };
    }
    const blocksServed = this.#isServed(name, keyId);
    const intent = await this.#beginIntent('delete', version, { from: version.state, to: DELETED_STATE }, (tx) => this.#changedSince(tx, version));
    this.#deps.afterStep?.(`${action}:intent`);
    const objectsDestroyed = await this.#deps.vault.destroy(version);
    this.#deps.afterStep?.(`${action}:token`);
    await this.#completeStateChange(intent, version, DELETED_STATE, action, { objectsDestroyed }, finishSchedule);
    const notice = this.#cachedKeyNotice(blocksServed, name, keyId);
    return { applied: true, version: { name, keyId, state: DELETED_STATE, enabled: version.enabled, ...notice }, objectsDestroyed };
  }

  /** Is this the version GET /{name} serves right now (published, Active, Enabled)? */
  #isServed(name: string, keyId: string): boolean {
    const record = this.#deps.store.findKey(name);
    return record !== undefined && servedVersion(record)?.keyId === keyId;
  }

  /** Contract §4: blocking the served version stops opening at once, not protecting; the answer says so. */
  #cachedKeyNotice(blocksServed: boolean, name: string, keyId: string): { notice?: string } {
    const notice = blocksServed ? cachedPublicKeyNotice(name, keyId, this.#deps.publicKeyCacheHours ?? 24) : undefined;
    return notice === undefined ? {} : { notice };
  }

  async impactPreview(version: KeyVersion, to: KeyState): Promise<ImpactPreview> {
    const since = new Date(this.#now().getTime() - IMPACT_WINDOW_DAYS * 86_400_000);
    return {
      name: version.name,
      keyId: version.keyId,
      from: version.state,
      to,
      effect: permanentEffectSentence(version.state, to),
      windowDays: IMPACT_WINDOW_DAYS,
      usage: await this.#deps.audit.decryptUsage(version.name, version.keyId, since),
    };
  }

  /** PKCS#11 evidence per version, read from the token itself, with the verdict (contract §3 `attest`). */
  async attest(name: string, keyId?: string): Promise<{ name: string; versions: VersionAttestation[] }> {
    const record = await this.#requireKey(name);
    const versions = keyId === undefined ? record.versions : [await this.#requireVersion('attest', name, keyId)];
    const attested: VersionAttestation[] = [];
    for (const version of versions) {
      const evidence = hasObjectsInToken(version.state) ? await this.#deps.vault.attest(version) : undefined;
      attested.push(attestationOf(version, evidence));
    }
    await this.#audit.succeeded('attest', name, keyId, { verdicts: attested.map((v) => `${v.keyId}: ${v.verdict}`).join(', ') });
    return { name, versions: attested };
  }

  /** The kill switch as every instance sees it on its next request (contract §3 `dke emergency`, §6). */
  emergencyBlock(): EmergencyBlockView {
    const block = this.#deps.store.emergencyBlock();
    return block === undefined ? { blocked: false } : { blocked: true, since: block.since, by: block.by };
  }

  /**
   * Sets or lifts the kill switch: while on, no version of any key decrypts (403 key_not_usable) or is published (GET
   * 404); each version's state and Enabled flag are left as they are and apply again once it is lifted. Audited.
   */
  async setEmergencyBlock(on: boolean): Promise<EmergencyBlockView | Proposed> {
    // Setting it never waits; lifting it needs a second admin when approvals are required (contract §6).
    if (!on && this.emergencyBlock().blocked && this.#needsApproval()) return { approval: await this.#propose('emergency-unblock') };
    const action = on ? 'emergency-block' : 'emergency-unblock';
    // The switch and its audit entry commit together (issue 17's rule for every admin change).
    await this.#deps.store.change(async (tx) => {
      const changed = await tx.setEmergencyBlock(on ? { since: this.#now().toISOString(), by: this.#deps.actor } : undefined);
      await this.#audit.within(tx).succeeded(action, undefined, undefined, { changed });
    });
    return this.emergencyBlock();
  }

  /**
   * The rotation schedule (contract §3 `dke keys rotation`): with `every` (a span such as 90d), the scheduler publishes
   * a new version whenever the newest Active one is older than that; undefined turns it off.
   */
  async setRotation(name: string, every: string | undefined): Promise<KeyView> {
    await this.#requireKey(name);
    if (every !== undefined && (spanMs(every) ?? 0) < 1000) {
      throw await this.#audit.refusal('rotation', name, `"${every}" is not a rotation period; use a span such as 90d, 12h or 30m.`);
    }
    await this.#deps.store.change(async (tx) => {
      const changed = await tx.setRotation(name, every?.trim());
      await this.#audit.within(tx).succeeded('rotation', name, undefined, { every: every?.trim() ?? null, changed });
    });
    return this.show(name);
  }

  /** The scheduler's rotation job: every key name whose newest Active version is older than its period gets a new one. */
  async rotateDueKeys(): Promise<CreatedVersion[]> {
    const now = this.#now().getTime();
    const rotated: CreatedVersion[] = [];
    for (const record of this.#deps.store.listKeys()) {
      const period = record.rotationEvery === undefined ? undefined : spanMs(record.rotationEvery);
      if (period === undefined) continue;
      const newestActive = record.versions.filter((v) => v.state === 'active').map((v) => Date.parse(v.createdAt)).sort((a, b) => b - a)[0];
      if (newestActive === undefined || newestActive + period > now) continue;
      rotated.push(await this.rotate(record.name));
    }
    return rotated;
  }

  /** Every proposal of the two-person rule, oldest first (`dke approvals list`, GET /admin/api/approvals). */
  async approvals(): Promise<ApprovalView[]> {
    const now = this.#now();
    return (await this.#deps.store.listApprovals()).map((a) => approvalView(a, now));
  }

  /**
   * A second admin approves a proposal: it must be pending and unexpired (409 otherwise) and come from another
   * principal (403 same_principal). The step then runs as this admin would run it, re-checking the state table now;
   * a step the table refuses by now marks the proposal failed and answers its refusal. Both people are audited.
   */
  async approve(id: string): Promise<{ approval: ApprovalView; result: unknown }> {
    const approval = await this.#pendingApproval('approve', id);
    if (approval.requestedByPrincipal === this.#principal) {
      throw await this.#audit.refusal('approve', approval.keyName, `Proposal ${id} was made by you; another admin must approve it.`, approval.keyId, SamePrincipal);
    }
    let result: unknown;
    this.#executing = true;
    try {
      result = await this.#execute(approval);
    } catch (error) {
      await this.#decide(approval, 'failed', { reason: error instanceof Error ? error.message : 'unknown' });
      throw error;
    } finally {
      this.#executing = false;
    }
    await this.#decide(approval, 'approved');
    return { approval: await this.#approvalById(id), result };
  }

  /** Either admin (the proposer too, to withdraw it) rejects a pending proposal; nothing else happens. */
  async reject(id: string): Promise<ApprovalView> {
    const approval = await this.#pendingApproval('reject', id);
    await this.#decide(approval, 'rejected');
    return this.#approvalById(id);
  }

  async list(): Promise<KeyView[]> {
    const views: KeyView[] = [];
    for (const record of this.#deps.store.listKeys()) views.push(toView(record, await this.#deps.store.lastUses(record.name)));
    return views;
  }

  async show(name: string): Promise<KeyView> {
    return toView(await this.#requireKey(name), await this.#deps.store.lastUses(name));
  }

  /** `dke keys reconcile [--dry-run]` and the service at start: see key-reconcile.ts. */
  reconcile(dryRun: boolean): Promise<ReconcileReport> {
    return reconcile({ ...this.#deps, now: this.#now }, this.#audit, dryRun);
  }

  /**
   * `dke audit` and `GET /admin/api/audit`: admin actions and decrypt decisions, oldest first; only those of one key
   * name when `keyName` is given, and only the newest `limit` when given. The reading itself is recorded after it.
   */
  async auditEntries(since?: Date, filter: { readonly keyName?: string; readonly limit?: number } = {}): Promise<AuditEntry[]> {
    let entries = await this.#deps.audit.list(since);
    if (filter.keyName !== undefined) entries = entries.filter((e) => e.keyName === filter.keyName);
    if (filter.limit !== undefined) entries = entries.slice(Math.max(0, entries.length - filter.limit));
    await this.#audit.succeeded('audit-read', filter.keyName, undefined, { since: since?.toISOString() ?? null, entries: entries.length });
    return entries;
  }

  /** `dke audit verify`: a removed, edited, reordered or truncated entry breaks the hash chain against its head. */
  async verifyAudit(archives: readonly string[] = []): Promise<AuditVerification & { readonly archives?: readonly ArchiveCheck[] }> {
    const chain = await this.#deps.audit.verify();
    const checks = archives.length === 0 ? undefined : await this.#deps.audit.checkArchives(archives);
    const failed = checks?.find((c) => !c.ok);
    const result =
      failed === undefined || !chain.ok ? { ...chain, ...(checks ? { archives: checks } : {}) } : { ...chain, ok: false, problem: `the archive ${failed.file} ${failed.problem}`, archives: checks };
    await this.#audit.succeeded('audit-verify', undefined, undefined, { ok: result.ok, entries: result.entries, brokenAt: result.brokenAt ?? null, archives: archives.length });
    return result;
  }

  /** `dke audit archive --before TIME --to FILE` (issue 17): see store/sqlite-audit-archive.ts. */
  archiveAudit(before: Date, file: string): Promise<ArchiveResult | undefined> {
    return this.#deps.audit.archiveBefore(before, file, this.#deps.actor);
  }

  /**
   * Create and rotate (issue 17): the intent is written with the precondition checked in the same transaction, so of
   * several CLIs racing on one name exactly one gets past it and the others are refused before the token is touched;
   * then the key pair is generated; then the version, its audit entry and the end of the intent commit together.
   */
  async #generateVersion(name: string, options: CreateKeyOptions, action: 'create' | 'rotate'): Promise<CreatedVersion> {
    const keyId = options.keyId ?? randomUUID();
    const idProblem = keyIdProblem(keyId);
    if (idProblem !== undefined) throw await this.#audit.refusal(action, name, idProblem);
    await this.#assertUserEntries(action, name, options.allow);
    const state = options.state ?? DEFAULT_INITIAL_STATE;
    if (!INITIAL_STATES.includes(state)) throw await this.#audit.refusal(action, name, `A new version starts ${stateList(INITIAL_STATES)}, not ${state}.`);
    const ref = { name, keyId };
    const intent = await this.#beginIntent(action, ref, { state }, async (tx) => {
      const exists = (await tx.findKey(name)) !== undefined;
      if (action === 'create' && exists) return addVersionRefusal(name, keyId, 'name-exists');
      if (action === 'rotate' && !exists) return addVersionRefusal(name, keyId, 'name-missing');
      return undefined;
    });
    this.#deps.afterStep?.(`${action}:intent`);
    let publicKey;
    try {
      publicKey = await this.#deps.vault.generateKeyPair(ref);
    } catch (error) {
      await this.#rollBackCreation(intent, error);
      throw error;
    }
    this.#deps.afterStep?.(`${action}:token`);
    const result = await this.#deps.store.change(async (tx) => {
      const added = await tx.addVersion(
        {
          name,
          keyId,
          state,
          origin: 'generated',
          publish: true,
          publicKey,
          nameMustBe: action === 'create' ? 'new' : 'existing',
          ...(options.allow ? { allow: options.allow } : {}),
        },
        this.#now().toISOString(),
      );
      if (added === 'added') {
        await this.#audit.within(tx).succeeded(action, name, keyId, { state, origin: 'generated' });
        await tx.finishIntent(intent.id);
      }
      return added;
    });
    if (result !== 'added') {
      await this.#rollBackCreation(intent, new AdminRefused(addVersionRefusal(name, keyId, result)));
      throw await this.#audit.refusal(action, name, addVersionRefusal(name, keyId, result), keyId, AdminConflict);
    }
    return { name, keyId, state, enabled: true };
  }

  /**
   * A creation that failed after its intent: its key pair (if any) goes, then the intent ends with a refusal entry.
   * A key the token held before (KeyAlreadyInToken) is not ours to destroy: it is left as it is.
   */
  async #rollBackCreation(intent: Intent, cause: unknown): Promise<void> {
    if (!(cause instanceof KeyAlreadyInToken)) await this.#deps.vault.destroy(intent);
    await this.#deps.store.change(async (tx) => {
      await this.#audit.within(tx).refused(intent.action, intent.name, intent.keyId, cause instanceof Error ? cause.message : 'unknown error');
      await tx.finishIntent(intent.id);
    });
  }

  /**
   * Writes the intent of a token step, with `check` and "no other unfinished step on this name" evaluated inside the
   * same write transaction; refuses (audited) with the sentence otherwise.
   */
  async #beginIntent(action: IntentAction, ref: KeyVersionRef, details: NewIntent['details'], check: (tx: StoreTransaction) => Promise<string | undefined>): Promise<Intent> {
    const intent: NewIntent = { action, name: ref.name, keyId: ref.keyId, actor: this.#deps.actor, owner: this.#deps.owner ?? 'unknown', createdAt: this.#now().toISOString(), ...(details ? { details } : {}) };
    const result = await this.#deps.store.change(async (tx): Promise<Intent | string> => {
      const refusal = (await unfinishedStepOn(tx, ref.name)) ?? (await check(tx));
      return refusal ?? tx.beginIntent(intent);
    });
    if (typeof result === 'string') throw await this.#audit.refusal(action, ref.name, result, ref.keyId, AdminConflict);
    return result;
  }

  /**
   * Inside a write transaction: a sentence saying what changed when the version is no longer as it was read (contract
   * §5: the loser of a race is told what the winner did), undefined while it is.
   */
  async #changedSince(tx: StoreTransaction, version: KeyVersion): Promise<string | undefined> {
    const now = (await tx.findKey(version.name))?.versions.find((v) => v.keyId === version.keyId);
    const what = `Version ${version.keyId} of "${version.name}"`;
    if (now === undefined) return `${what} no longer exists; look again and retry.`;
    if (now.state !== version.state) return `${what} changed meanwhile: it is ${stateLabel(now.state)} now, no longer ${stateLabel(version.state)}; look again and retry.`;
    if (now.deletion?.destroyAt !== version.deletion?.destroyAt) {
      return now.deletion === undefined
        ? `${what} changed meanwhile: its deletion was cancelled; look again and retry.`
        : `${what} changed meanwhile: it was scheduled for destruction at ${now.deletion.destroyAt}; look again and retry.`;
    }
    return undefined;
  }

  /**
   * The last step of set-state and delete: the state (compare-and-set), its audit entry and the end of the intent in
   * one transaction. Refused (and the intent ended) when the version changed meanwhile.
   */
  async #completeStateChange(
    intent: Intent | undefined,
    version: KeyVersion,
    to: KeyState,
    action: string,
    details: AuditEvent['details'],
    alsoWhenChanged?: (tx: StoreTransaction) => Promise<void>,
  ): Promise<void> {
    const refusal = await this.#deps.store.change(async (tx) => {
      const changed = await tx.setState(version.name, version.keyId, version.state, to, this.#now().toISOString());
      const sentence = changed ? undefined : ((await this.#changedSince(tx, version)) ?? `Version ${version.keyId} of "${version.name}" changed meanwhile; look again and retry.`);
      if (changed) await this.#audit.within(tx).succeeded(action, version.name, version.keyId, { from: version.state, to, ...details });
      if (changed) await alsoWhenChanged?.(tx);
      if (intent !== undefined) await tx.finishIntent(intent.id);
      return sentence;
    });
    if (refusal !== undefined) throw await this.#audit.refusal(action, version.name, refusal, version.keyId, AdminConflict);
  }

  async #changeGrant(action: 'grant' | 'revoke', name: string, kind: keyof AllowList, value: string): Promise<boolean> {
    await this.#requireKey(name);
    if (value.trim() === '') throw await this.#audit.refusal(action, name, 'The value to grant or revoke is empty.');
    if (action === 'grant' && kind === 'users') await this.#assertUserEntries(action, name, { users: [value], groups: [], roles: [] });
    return this.#deps.store.change(async (tx) => {
      const changed = action === 'grant' ? await tx.grant(name, kind, value) : await tx.revoke(name, kind, value);
      await this.#audit.within(tx).succeeded(action, name, undefined, { kind, value: value.trim(), changed });
      return changed;
    });
  }

  /** Issue 18: a user entry is an object id or a member's UPN, nothing anybody else can choose. */
  async #assertUserEntries(action: string, name: string, allow: AllowList | undefined): Promise<void> {
    for (const user of allow?.users ?? []) {
      const problem = userEntryProblem(user);
      if (problem !== undefined) throw await this.#audit.refusal(action, name, problem);
    }
  }

  async #requireVersion(action: string, name: string, keyId: string): Promise<KeyVersion> {
    const version = (await this.#requireKey(name)).versions.find((v) => v.keyId === keyId);
    if (version === undefined) throw await this.#audit.refusal(action, name, `The key "${name}" has no version ${keyId}.`, keyId, AdminNotFound);
    return version;
  }

  get #principal(): string {
    return this.#deps.principal ?? this.#deps.actor;
  }

  #needsApproval(): boolean {
    return this.#deps.approvalsRequired === 2 && !this.#executing;
  }

  async #propose(operation: Approval['operation'], keyName?: string, keyId?: string, state?: KeyState): Promise<ApprovalView> {
    const now = this.#now();
    const approval: Approval = {
      id: randomUUID(),
      operation,
      ...(keyName !== undefined ? { keyName } : {}),
      ...(keyId !== undefined ? { keyId } : {}),
      ...(state !== undefined ? { state } : {}),
      requestedBy: this.#deps.actor,
      requestedByPrincipal: this.#principal,
      requestedAt: now.toISOString(),
      expiresAt: new Date(now.getTime() + (this.#deps.approvalTtlMs ?? 86_400_000)).toISOString(),
      status: 'pending',
    };
    await this.#deps.store.change(async (tx) => {
      await tx.addApproval(approval);
      await this.#audit.within(tx).succeeded('propose', keyName, keyId, { approval: approval.id, operation, ...(state ? { to: state } : {}), expiresAt: approval.expiresAt });
    });
    return approvalView(approval, now);
  }

  async #approvalById(id: string): Promise<ApprovalView> {
    return (await this.approvals()).find((a) => a.id === id)!;
  }

  /** The proposal, if it can still be decided: 404 unknown, 409 decided or expired (an expired one is recorded so). */
  async #pendingApproval(action: 'approve' | 'reject', id: string): Promise<Approval> {
    const approval = (await this.#deps.store.listApprovals()).find((a) => a.id === id);
    if (approval === undefined) throw new AdminNotFound(`There is no proposal ${id}.`);
    if (approval.status === 'pending' && Date.parse(approval.expiresAt) <= this.#now().getTime()) {
      await this.#deps.store.change((tx) => tx.decideApproval(id, 'expired', 'expiry', this.#now().toISOString()));
      throw await this.#audit.refusal(action, approval.keyName, `Proposal ${id} expired at ${approval.expiresAt}; propose the step again.`, approval.keyId, AdminConflict);
    }
    if (approval.status !== 'pending') {
      throw await this.#audit.refusal(action, approval.keyName, `Proposal ${id} is already ${approval.status}.`, approval.keyId, AdminConflict);
    }
    return approval;
  }

  async #decide(approval: Approval, status: 'approved' | 'rejected' | 'failed', extra: Record<string, string> = {}): Promise<void> {
    await this.#deps.store.change(async (tx) => {
      if (!(await tx.decideApproval(approval.id, status, this.#deps.actor, this.#now().toISOString()))) return;
      const action = status === 'rejected' ? 'reject' : 'approve';
      await this.#audit.within(tx).succeeded(action, approval.keyName, approval.keyId, {
        approval: approval.id,
        operation: approval.operation,
        proposedBy: approval.requestedBy,
        decidedBy: this.#deps.actor,
        status,
        ...extra,
      });
    });
  }

  async #execute(approval: Approval): Promise<unknown> {
    switch (approval.operation) {
      case 'set-state':
        return this.setState(approval.keyName!, approval.keyId!, approval.state!, true);
      case 'delete':
        return this.delete(approval.keyName!, approval.keyId!, true);
      case 'emergency-unblock':
        return this.setEmergencyBlock(false);
    }
  }

  async #requireKey(name: string): Promise<KeyRecord> {
    const record = this.#deps.store.findKey(name);
    if (record === undefined) throw new AdminNotFound(`There is no key named "${name}".`);
    return record;
  }
}
