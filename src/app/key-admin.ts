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
import type { Approval, ArchiveCheck, ArchiveResult, AuditArchiver, AuditEntry, AuditEvent, AuditReader, AuditTrail, AuditVerification, Intent, IntentAction, IntentLog, KeyStateStore, KeyVault, KeyVersionRef, NewIntent } from '../keys/ports.js';
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
  /** Unfinished token steps (issue 17): written before the token is touched, finished with the step's outcome. */
  readonly intents: IntentLog;
  /** `host:pid` of this process, written into its intents. */
  readonly owner?: string;
  /** Is the process that wrote an intent still running (then its intent is not a reconcile's business)? */
  readonly isOwnerAlive?: (owner: string) => boolean;
  /** Test seam (DKE_FAULT_KILL_AFTER): called after each step of an operation that touches the token. */
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
    if (problem !== undefined) this.#audit.refuse('create', name, problem);
    if (this.#deps.store.findKey(name) !== undefined) {
      this.#audit.refuse('create', name, `The key name "${name}" exists already; use "dke keys rotate ${name}" for a new version.`, undefined, AdminConflict);
    }
    return this.#generateVersion(name, options, 'create');
  }

  /** A new Active version generated in the HSM becomes the published one; older versions keep decrypting. */
  async rotate(name: string): Promise<CreatedVersion> {
    this.#requireKey(name);
    return this.#generateVersion(name, {}, 'rotate');
  }

  /** Bring your own key (`dke keys import`): see key-import.ts. */
  async importKey(name: string, material: PrivateKeyMaterial, options: ImportOptions): Promise<CreatedVersion> {
    try {
      this.#assertUserEntries('import', name, options.allow);
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
    this.#audit.succeeded('import-reference', undefined, undefined, { dryRun, imported, unchanged: report.steps.length - imported });
    return report;
  }

  /** The reversible block (contract §4): never revives a Deactivated, Compromised or Destroyed version. */
  setEnabled(name: string, keyId: string, enabled: boolean): VersionSummary {
    const action = enabled ? 'enable' : 'disable';
    const version = this.#requireVersion(action, name, keyId);
    if (!canToggleEnabled(version.state)) {
      this.#audit.refuse(action, name, `Version ${keyId} of "${name}" is Destroyed; there is nothing to ${action}.`, keyId, AdminConflict);
    }
    const blocksServed = !enabled && this.#isServed(name, keyId);
    // Written compare-and-set with its audit entry in one transaction: a version destroyed meanwhile is refused.
    const changed = this.#deps.store.atomically(() => {
      if (!this.#deps.store.setEnabled(name, keyId, enabled, this.#now().toISOString())) return false;
      this.#audit.succeeded(action, name, keyId, { from: version.enabled ? 'enabled' : 'disabled', to: enabled ? 'enabled' : 'disabled', state: version.state });
      return true;
    });
    if (!changed) this.#audit.refuse(action, name, `Version ${keyId} of "${name}" was destroyed meanwhile; there is nothing to ${action}.`, keyId, AdminConflict);
    return { name, keyId, state: version.state, enabled, ...this.#cachedKeyNotice(blocksServed, name, keyId) };
  }

  grant(name: string, kind: keyof AllowList, value: string): boolean {
    return this.#changeGrant('grant', name, kind, value);
  }

  revoke(name: string, kind: keyof AllowList, value: string): boolean {
    return this.#changeGrant('revoke', name, kind, value);
  }

  /**
   * The permanent steps of contract §4 are checked against the state table, previewed with their impact from the
   * audit trail unless confirmed (`--yes`), written compare-and-set, made physical in the token where it allows
   * (CKA_DECRYPT cleared), and audited.
   */
  async setState(name: string, keyId: string, to: KeyState, confirmed: boolean): Promise<StateChangeOutcome> {
    const version = this.#requireVersion('set-state', name, keyId);
    if (isDeletion(to)) {
      this.#audit.refuse('set-state', name, `Use "dke keys delete ${name} ${keyId} --yes" to destroy a key version.`, keyId);
    }
    if (!isTransitionAllowed(version.state, to)) {
      this.#audit.refuse('set-state', name, refusedTransitionSentence(version.state, to), keyId, AdminConflict);
    }
    if (version.deletion !== undefined) {
      this.#audit.refuse('set-state', name, `Version ${keyId} of "${name}" is scheduled for destruction at ${version.deletion.destroyAt}; cancel the deletion first ("dke keys cancel-deletion ${name} ${keyId}").`, keyId, AdminConflict);
    }
    if (isPermanentTransition(to) && !confirmed) return { applied: false, preview: this.impactPreview(version, to) };
    if (isPermanentTransition(to) && this.#needsApproval()) return { applied: false, approval: this.#propose('set-state', name, keyId, to) };
    const blocksServed = !STATE_RULES[to].publishable && this.#isServed(name, keyId);
    let decryptClearedInToken: boolean | undefined;
    let intent: Intent | undefined;
    if (clearsDecryptInToken(to)) {
      // Issue 17: intent, then the token step, then state + audit + end of intent in one transaction.
      intent = this.#beginIntent('set-state', version, { from: version.state, to }, () => this.#changedSince(version));
      this.#deps.afterStep?.('set-state:intent');
      decryptClearedInToken = await this.#deps.vault.forbidDecrypt(version);
      this.#deps.afterStep?.('set-state:token');
    }
    this.#completeStateChange(intent, version, to, 'set-state', decryptClearedInToken !== undefined ? { decryptClearedInToken } : {});
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
    const version = this.#requireVersion('delete', name, keyId);
    const retry = isDeletion(version.state);
    if (!retry && !isTransitionAllowed(version.state, DELETED_STATE)) {
      this.#audit.refuse('delete', name, `Only Pre-Active and Active versions can be deleted; version ${keyId} is ${stateLabel(version.state)}.`, keyId, AdminConflict);
    }
    if (!retry && version.deletion !== undefined) {
      this.#audit.refuse('delete', name, `Version ${keyId} of "${name}" is already scheduled for destruction at ${version.deletion.destroyAt}; "dke keys cancel-deletion ${name} ${keyId}" brings it back.`, keyId, AdminConflict);
    }
    if (!confirmed) return { applied: false, preview: this.impactPreview(version, DELETED_STATE) };
    if (!retry && this.#needsApproval()) return { applied: false, approval: this.#propose('delete', name, keyId) };
    const windowMs = this.#deps.deletionWindowMs ?? 0;
    if (retry || windowMs === 0) return this.#destroyNow(version, 'delete');
    // The deletion window (contract §4): from now on the version neither decrypts nor is published; its state,
    // Enabled flag and publication stay as they are, so cancel-deletion restores it exactly.
    const blocksServed = this.#isServed(name, keyId);
    const now = this.#now();
    const deletion = { requestedAt: now.toISOString(), destroyAt: new Date(now.getTime() + windowMs).toISOString() };
    const scheduled = this.#deps.store.atomically(() => {
      if (!this.#deps.store.scheduleDeletion(name, keyId, version.state, deletion)) return false;
      this.#audit.succeeded('delete', name, keyId, { from: version.state, scheduled: true, destroyAt: deletion.destroyAt });
      return true;
    });
    if (!scheduled) this.#audit.refuse('delete', name, `Version ${keyId} of "${name}" changed meanwhile; look again and retry.`, keyId, AdminConflict);
    const notice = this.#cachedKeyNotice(blocksServed, name, keyId);
    return { applied: true, version: { name, keyId, state: version.state, enabled: version.enabled, ...notice }, deletion };
  }

  /** Takes back a scheduled delete before its `destroyAt` (contract §4): the version is exactly as it was before. */
  cancelDeletion(name: string, keyId: string): VersionSummary {
    const version = this.#requireVersion('cancel-deletion', name, keyId);
    if (version.deletion === undefined || isDeletion(version.state)) {
      this.#audit.refuse('cancel-deletion', name, `Version ${keyId} of "${name}" has no deletion to cancel${isDeletion(version.state) ? ': it is Destroyed' : ''}.`, keyId, AdminConflict);
    }
    const cancelled = this.#deps.store.atomically(() => {
      if (!this.#deps.store.cancelDeletion(name, keyId)) return false;
      this.#audit.succeeded('cancel-deletion', name, keyId, { state: version.state, destroyAt: version.deletion?.destroyAt ?? null });
      return true;
    });
    if (!cancelled) this.#audit.refuse('cancel-deletion', name, `Version ${keyId} of "${name}" was destroyed meanwhile.`, keyId, AdminConflict);
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
        this.#audit.refused('destroy', version.name, version.keyId, `Version ${version.keyId} is ${stateLabel(version.state)}; the scheduled destruction is dropped.`);
        this.#deps.store.finishDeletion(version.name, version.keyId);
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
    const finishSchedule = (): void => {
      if (version.deletion !== undefined) this.#deps.store.finishDeletion(name, keyId);
    };
    if (isDeletion(version.state)) {
      const objectsDestroyed = await this.#deps.vault.destroy(version);
      this.#deps.store.atomically(() => {
        this.#audit.succeeded(action, name, keyId, { from: version.state, to: DELETED_STATE, objectsDestroyed });
        finishSchedule();
      });
      return { applied: true, version: { name, keyId, state: DELETED_STATE, enabled: version.enabled }, objectsDestroyed };
    }
    const blocksServed = this.#isServed(name, keyId);
    const intent = this.#beginIntent('delete', version, { from: version.state, to: DELETED_STATE }, () => this.#changedSince(version));
    this.#deps.afterStep?.(`${action}:intent`);
    const objectsDestroyed = await this.#deps.vault.destroy(version);
    this.#deps.afterStep?.(`${action}:token`);
    this.#completeStateChange(intent, version, DELETED_STATE, action, { objectsDestroyed }, finishSchedule);
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

  impactPreview(version: KeyVersion, to: KeyState): ImpactPreview {
    const since = new Date(this.#now().getTime() - IMPACT_WINDOW_DAYS * 86_400_000);
    return {
      name: version.name,
      keyId: version.keyId,
      from: version.state,
      to,
      effect: permanentEffectSentence(version.state, to),
      windowDays: IMPACT_WINDOW_DAYS,
      usage: this.#deps.audit.decryptUsage(version.name, version.keyId, since),
    };
  }

  /** PKCS#11 evidence per version, read from the token itself, with the verdict (contract §3 `attest`). */
  async attest(name: string, keyId?: string): Promise<{ name: string; versions: VersionAttestation[] }> {
    const record = this.#requireKey(name);
    const versions = keyId === undefined ? record.versions : [this.#requireVersion('attest', name, keyId)];
    const attested: VersionAttestation[] = [];
    for (const version of versions) {
      const evidence = hasObjectsInToken(version.state) ? await this.#deps.vault.attest(version) : undefined;
      attested.push(attestationOf(version, evidence));
    }
    this.#audit.succeeded('attest', name, keyId, { verdicts: attested.map((v) => `${v.keyId}: ${v.verdict}`).join(', ') });
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
  setEmergencyBlock(on: boolean): EmergencyBlockView | Proposed {
    // Setting it never waits; lifting it needs a second admin when approvals are required (contract §6).
    if (!on && this.emergencyBlock().blocked && this.#needsApproval()) return { approval: this.#propose('emergency-unblock') };
    const action = on ? 'emergency-block' : 'emergency-unblock';
    // The switch and its audit entry commit together (issue 17's rule for every admin change).
    this.#deps.store.atomically(() => {
      const changed = this.#deps.store.setEmergencyBlock(on ? { since: this.#now().toISOString(), by: this.#deps.actor } : undefined);
      this.#audit.succeeded(action, undefined, undefined, { changed });
    });
    return this.emergencyBlock();
  }

  /**
   * The rotation schedule (contract §3 `dke keys rotation`): with `every` (a span such as 90d), the scheduler publishes
   * a new version whenever the newest Active one is older than that; undefined turns it off.
   */
  setRotation(name: string, every: string | undefined): KeyView {
    this.#requireKey(name);
    if (every !== undefined && (spanMs(every) ?? 0) < 1000) {
      this.#audit.refuse('rotation', name, `"${every}" is not a rotation period; use a span such as 90d, 12h or 30m.`);
    }
    this.#deps.store.atomically(() => {
      const changed = this.#deps.store.setRotation(name, every?.trim());
      this.#audit.succeeded('rotation', name, undefined, { every: every?.trim() ?? null, changed });
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
  approvals(): ApprovalView[] {
    const now = this.#now();
    return this.#deps.store.listApprovals().map((a) => approvalView(a, now));
  }

  /**
   * A second admin approves a proposal: it must be pending and unexpired (409 otherwise) and come from another
   * principal (403 same_principal). The step then runs as this admin would run it, re-checking the state table now;
   * a step the table refuses by now marks the proposal failed and answers its refusal. Both people are audited.
   */
  async approve(id: string): Promise<{ approval: ApprovalView; result: unknown }> {
    const approval = this.#pendingApproval('approve', id);
    if (approval.requestedByPrincipal === this.#principal) {
      this.#audit.refuse('approve', approval.keyName, `Proposal ${id} was made by you; another admin must approve it.`, approval.keyId, SamePrincipal);
    }
    let result: unknown;
    this.#executing = true;
    try {
      result = await this.#execute(approval);
    } catch (error) {
      this.#decide(approval, 'failed', { reason: error instanceof Error ? error.message : 'unknown' });
      throw error;
    } finally {
      this.#executing = false;
    }
    this.#decide(approval, 'approved');
    return { approval: this.#approvalById(id), result };
  }

  /** Either admin (the proposer too, to withdraw it) rejects a pending proposal; nothing else happens. */
  reject(id: string): ApprovalView {
    const approval = this.#pendingApproval('reject', id);
    this.#decide(approval, 'rejected');
    return this.#approvalById(id);
  }

  list(): KeyView[] {
    return this.#deps.store.listKeys().map((record) => toView(record, this.#deps.store.lastUses(record.name)));
  }

  show(name: string): KeyView {
    return toView(this.#requireKey(name), this.#deps.store.lastUses(name));
  }

  /** `dke keys reconcile [--dry-run]` and the service at start: see key-reconcile.ts. */
  reconcile(dryRun: boolean): Promise<ReconcileReport> {
    return reconcile({ ...this.#deps, now: this.#now }, this.#audit, dryRun);
  }

  /**
   * `dke audit` and `GET /admin/api/audit`: admin actions and decrypt decisions, oldest first; only those of one key
   * name when `keyName` is given, and only the newest `limit` when given. The reading itself is recorded after it.
   */
  auditEntries(since?: Date, filter: { readonly keyName?: string; readonly limit?: number } = {}): AuditEntry[] {
    let entries = this.#deps.audit.list(since);
    if (filter.keyName !== undefined) entries = entries.filter((e) => e.keyName === filter.keyName);
    if (filter.limit !== undefined) entries = entries.slice(Math.max(0, entries.length - filter.limit));
    this.#audit.succeeded('audit-read', filter.keyName, undefined, { since: since?.toISOString() ?? null, entries: entries.length });
    return entries;
  }

  /** `dke audit verify`: a removed, edited, reordered or truncated entry breaks the hash chain against its head. */
  verifyAudit(archives: readonly string[] = []): AuditVerification & { readonly archives?: readonly ArchiveCheck[] } {
    const chain = this.#deps.audit.verify();
    const checks = archives.length === 0 ? undefined : this.#deps.audit.checkArchives(archives);
    const failed = checks?.find((c) => !c.ok);
    const result =
      failed === undefined || !chain.ok ? { ...chain, ...(checks ? { archives: checks } : {}) } : { ...chain, ok: false, problem: `the archive ${failed.file} ${failed.problem}`, archives: checks };
    this.#audit.succeeded('audit-verify', undefined, undefined, { ok: result.ok, entries: result.entries, brokenAt: result.brokenAt ?? null, archives: archives.length });
    return result;
  }

  /** `dke audit archive --before TIME --to FILE` (issue 17): see store/sqlite-audit-archive.ts. */
  archiveAudit(before: Date, file: string): ArchiveResult | undefined {
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
    if (idProblem !== undefined) this.#audit.refuse(action, name, idProblem);
    this.#assertUserEntries(action, name, options.allow);
    const state = options.state ?? DEFAULT_INITIAL_STATE;
    if (!INITIAL_STATES.includes(state)) this.#audit.refuse(action, name, `A new version starts ${stateList(INITIAL_STATES)}, not ${state}.`);
    const ref = { name, keyId };
    const intent = this.#beginIntent(action, ref, { state }, () => {
      const exists = this.#deps.store.findKey(name) !== undefined;
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
    const result = this.#deps.store.addVersion(
      {
        name,
        keyId,
        state,
        origin: 'generated',
        publish: true,
        publicKey,
        nameMustBe: action === 'create' ? 'new' : 'existing',
        ...(options.allow ? { allow: options.allow } : {}),
        then: () => {
          this.#audit.succeeded(action, name, keyId, { state, origin: 'generated' });
          this.#deps.intents.finish(intent.id);
        },
      },
      this.#now().toISOString(),
    );
    if (result !== 'added') {
      await this.#rollBackCreation(intent, new AdminRefused(addVersionRefusal(name, keyId, result)));
      this.#audit.refuse(action, name, addVersionRefusal(name, keyId, result), keyId, AdminConflict);
    }
    return { name, keyId, state, enabled: true };
  }

  /**
   * A creation that failed after its intent: its key pair (if any) goes, then the intent ends with a refusal entry.
   * A key the token held before (KeyAlreadyInToken) is not ours to destroy: it is left as it is.
   */
  async #rollBackCreation(intent: Intent, cause: unknown): Promise<void> {
    if (!(cause instanceof KeyAlreadyInToken)) await this.#deps.vault.destroy(intent);
    this.#deps.store.atomically(() => {
      this.#audit.refused(intent.action, intent.name, intent.keyId, cause instanceof Error ? cause.message : 'unknown error');
      this.#deps.intents.finish(intent.id);
    });
  }

  /**
   * Writes the intent of a token step, with `check` and "no other unfinished step on this name" evaluated inside the
   * same write transaction; refuses (audited) with the sentence otherwise.
   */
  #beginIntent(action: IntentAction, ref: KeyVersionRef, details: NewIntent['details'], check: () => string | undefined): Intent {
    const result = this.#deps.intents.begin(
      { action, name: ref.name, keyId: ref.keyId, actor: this.#deps.actor, owner: this.#deps.owner ?? 'unknown', createdAt: this.#now().toISOString(), ...(details ? { details } : {}) },
      () => unfinishedStepOn(this.#deps.intents, ref.name) ?? check(),
    );
    if (typeof result === 'string') this.#audit.refuse(action, ref.name, result, ref.keyId, AdminConflict);
    return result;
  }

  /** Inside a write transaction: a sentence when the version is no longer in the state it was read in. */
  #changedSince(version: KeyVersion): string | undefined {
    const now = this.#deps.store.findKey(version.name)?.versions.find((v) => v.keyId === version.keyId);
    return now?.state === version.state ? undefined : `Version ${version.keyId} of "${version.name}" changed meanwhile; look again and retry.`;
  }

  /**
   * The last step of set-state and delete: the state (compare-and-set), its audit entry and the end of the intent in
   * one transaction. Refused (and the intent ended) when the version changed meanwhile.
   */
  #completeStateChange(intent: Intent | undefined, version: KeyVersion, to: KeyState, action: string, details: AuditEvent['details'], alsoWhenChanged?: () => void): void {
    const written = this.#deps.store.atomically(() => {
      const changed = this.#deps.store.setState(version.name, version.keyId, version.state, to, this.#now().toISOString());
      if (changed) this.#audit.succeeded(action, version.name, version.keyId, { from: version.state, to, ...details });
      if (changed) alsoWhenChanged?.();
      if (intent !== undefined) this.#deps.intents.finish(intent.id);
      return changed;
    });
    if (!written) this.#audit.refuse(action, version.name, `Version ${version.keyId} of "${version.name}" changed meanwhile; look again and retry.`, version.keyId, AdminConflict);
  }

  #changeGrant(action: 'grant' | 'revoke', name: string, kind: keyof AllowList, value: string): boolean {
    this.#requireKey(name);
    if (value.trim() === '') this.#audit.refuse(action, name, 'The value to grant or revoke is empty.');
    if (action === 'grant' && kind === 'users') this.#assertUserEntries(action, name, { users: [value], groups: [], roles: [] });
    return this.#deps.store.atomically(() => {
      const changed = action === 'grant' ? this.#deps.store.grant(name, kind, value) : this.#deps.store.revoke(name, kind, value);
      this.#audit.succeeded(action, name, undefined, { kind, value: value.trim(), changed });
      return changed;
    });
  }

  /** Issue 18: a user entry is an object id or a member's UPN, nothing anybody else can choose. */
  #assertUserEntries(action: string, name: string, allow: AllowList | undefined): void {
    for (const user of allow?.users ?? []) {
      const problem = userEntryProblem(user);
      if (problem !== undefined) this.#audit.refuse(action, name, problem);
    }
  }

  #requireVersion(action: string, name: string, keyId: string): KeyVersion {
    const version = this.#requireKey(name).versions.find((v) => v.keyId === keyId);
    if (version === undefined) this.#audit.refuse(action, name, `The key "${name}" has no version ${keyId}.`, keyId, AdminNotFound);
    return version;
  }

  get #principal(): string {
    return this.#deps.principal ?? this.#deps.actor;
  }

  #needsApproval(): boolean {
    return this.#deps.approvalsRequired === 2 && !this.#executing;
  }

  #propose(operation: Approval['operation'], keyName?: string, keyId?: string, state?: KeyState): ApprovalView {
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
    this.#deps.store.atomically(() => {
      this.#deps.store.addApproval(approval);
      this.#audit.succeeded('propose', keyName, keyId, { approval: approval.id, operation, ...(state ? { to: state } : {}), expiresAt: approval.expiresAt });
    });
    return approvalView(approval, now);
  }

  #approvalById(id: string): ApprovalView {
    return this.approvals().find((a) => a.id === id)!;
  }

  /** The proposal, if it can still be decided: 404 unknown, 409 decided or expired (an expired one is recorded so). */
  #pendingApproval(action: 'approve' | 'reject', id: string): Approval {
    const approval = this.#deps.store.listApprovals().find((a) => a.id === id);
    if (approval === undefined) throw new AdminNotFound(`There is no proposal ${id}.`);
    if (approval.status === 'pending' && Date.parse(approval.expiresAt) <= this.#now().getTime()) {
      this.#deps.store.decideApproval(id, 'expired', 'expiry', this.#now().toISOString());
      this.#audit.refuse(action, approval.keyName, `Proposal ${id} expired at ${approval.expiresAt}; propose the step again.`, approval.keyId, AdminConflict);
    }
    if (approval.status !== 'pending') {
      this.#audit.refuse(action, approval.keyName, `Proposal ${id} is already ${approval.status}.`, approval.keyId, AdminConflict);
    }
    return approval;
  }

  #decide(approval: Approval, status: 'approved' | 'rejected' | 'failed', extra: Record<string, string> = {}): void {
    this.#deps.store.atomically(() => {
      if (!this.#deps.store.decideApproval(approval.id, status, this.#deps.actor, this.#now().toISOString())) return;
      const action = status === 'rejected' ? 'reject' : 'approve';
      this.#audit.succeeded(action, approval.keyName, approval.keyId, {
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

  #requireKey(name: string): KeyRecord {
    const record = this.#deps.store.findKey(name);
    if (record === undefined) throw new AdminNotFound(`There is no key named "${name}".`);
    return record;
  }
}
