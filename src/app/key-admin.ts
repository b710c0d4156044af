import type { AllowList, KeyState } from '../keys/key-version.js';
import type { AnchoredState, Approval, ArchiveCheck, ArchiveResult, AuditEntry, AuditFilter, AuditVerification, KeyVersionRef } from '../keys/ports.js';
import { AdminContext, type KeyAdminDeps } from './admin-context.js';
import type { AdminPolicyView } from './admin-shapes.js';
import type { AdminPolicy } from '../keys/admin-policy.js';
import { AdminPolicyChanges, policyView } from './admin-policy-change.js';
import { AuditReads, type AuditPage } from './audit-reads.js';
import { EmergencyBlock } from './emergency-block.js';
import type { ApprovalView, CreatedVersion, EmergencyBlockView, ImpactPreview, KeyView, Proposed, StateChangeOutcome, VersionSummary } from './key-admin-views.js';
import { KeyApprovals } from './key-approvals.js';
import type { VersionAttestation } from './key-attestation.js';
import { KeyDeletion } from './key-deletion.js';
import { KeyGrants, type GrantChange, type GrantEntry } from './key-grants.js';
import { importKey, type ImportOptions } from './key-import.js';
import { KeyLifecycle, type CreateKeyOptions } from './key-lifecycle.js';
import { KeyReads } from './key-reads.js';
import { reconcile, type ReconcileReport } from './key-reconcile.js';
import { DEFAULT_INTENT_LEASE_MS } from './intent-lease.js';
import { takeOverUnfinishedSteps, type TakenOverStep, type TakeoverDeps } from './intent-takeover.js';
import { KeyRotationSchedule } from './key-rotation-schedule.js';
import type { PrivateKeyMaterial } from './private-key-material.js';
import { migrateReference, type MigrationReport } from './reference-migration.js';
import { applyTokenRecords } from './restore-conflicts.js';
import type { ReferenceSettings } from './reference-settings.js';

export type { KeyAdminDeps } from './admin-context.js';
export type { CreateKeyOptions } from './key-lifecycle.js';

/**
 * The key-admin service (contract §3, §4, §6): every administrative operation on key names and versions, and the
 * only door to them for the CLI, the admin API and the scheduler. It composes the families that do the work, each in
 * its own file, over one shared AdminContext (the caller, the clock, the audit writer; admin-context.ts) and one way
 * to run a token step under an intent (admin-intents.ts): lifecycle (key-lifecycle.ts), deletion and its window
 * (key-deletion.ts), grants (key-grants.ts), rotation schedules (key-rotation-schedule.ts), approvals
 * (key-approvals.ts), the emergency block (emergency-block.ts), reads (key-reads.ts) and the audit trail
 * (audit-reads.ts). Every change records its audit entry, succeeded or refused, with who ran it; reads write none.
 */
export class KeyAdmin {
  readonly #ctx: AdminContext;
  readonly #lifecycle: KeyLifecycle;
  readonly #deletion: KeyDeletion;
  readonly #grants: KeyGrants;
  readonly #rotation: KeyRotationSchedule;
  readonly #approvals: KeyApprovals;
  readonly #emergency: EmergencyBlock;
  readonly #reads: KeyReads;
  readonly #audit: AuditReads;
  readonly #policy: AdminPolicyChanges;

  constructor(deps: KeyAdminDeps) {
    const ctx = new AdminContext(deps);
    this.#ctx = ctx;
    this.#lifecycle = new KeyLifecycle(ctx);
    this.#deletion = new KeyDeletion(ctx);
    this.#grants = new KeyGrants(ctx);
    this.#rotation = new KeyRotationSchedule(ctx, (name) => this.rotate(name));
    this.#approvals = new KeyApprovals(ctx, (approval) => this.#runApproved(approval));
    this.#emergency = new EmergencyBlock(ctx);
    this.#reads = new KeyReads(ctx);
    this.#audit = new AuditReads(ctx);
    this.#policy = new AdminPolicyChanges(ctx);
  }

  /** Generates a new key name's first version inside the HSM and publishes it. */
  create(name: string, options: CreateKeyOptions = {}): Promise<CreatedVersion> {
    return this.#lifecycle.create(name, options);
  }

  /** A new Active version generated in the HSM becomes the published one; older versions keep decrypting. */
  rotate(name: string, options: Pick<CreateKeyOptions, 'vault'> = {}): Promise<CreatedVersion> {
    return this.#lifecycle.rotate(name, options);
  }

  /** Bring your own key (`dke keys import`): see key-import.ts. */
  async importKey(name: string, material: PrivateKeyMaterial, options: ImportOptions): Promise<CreatedVersion> {
    let vault: string;
    try {
      await this.#ctx.assertAllowEntries('import', name, options.allow);
      vault = await this.#ctx.vaultForNewKey('import', name, options.vault);
    } catch (error) {
      material.wipe();
      throw error;
    }
    return importKey(this.#ctx.deps, this.#ctx.audit, name, material, { ...options, vault });
  }

  /** `dke import-reference`: see reference-migration.ts. Grants go through `grant`, so they are audited too. */
  async migrateReference(settings: ReferenceSettings, dryRun: boolean): Promise<MigrationReport> {
    const { deps, audit } = this.#ctx;
    const report = await migrateReference(
      deps,
      {
        // The reference's address lists are kept as they are (with GUEST_NOTE), as the migration report says.
        importKey: (name, material, options) => importKey(deps, audit, name, material, options),
        grant: (name, kind, value) => this.grant(name, kind, value),
      },
      settings,
      dryRun,
    );
    const imported = report.steps.filter((step) => step.action === 'import').length;
    await audit.succeeded('import-reference', undefined, undefined, { dryRun, imported, unchanged: report.steps.length - imported });
    return report;
  }

  /** The reversible block (contract §4): never revives a Deactivated, Compromised or Destroyed version. */
  setEnabled(name: string, keyId: string, enabled: boolean): Promise<VersionSummary> {
    return this.#lifecycle.setEnabled(name, keyId, enabled);
  }

  grant(name: string, kind: keyof AllowList, value: string): Promise<boolean> {
    return this.#grants.grant(name, kind, value);
  }

  revoke(name: string, kind: keyof AllowList, value: string): Promise<boolean> {
    return this.#grants.revoke(name, kind, value);
  }

  /** Several entries at once (`dke keys grant NAME --user a --user b`): all checked first, then changed together. */
  changeGrants(action: 'grant' | 'revoke', name: string, entries: readonly GrantEntry[]): Promise<GrantChange[]> {
    return this.#grants.change(action, name, entries);
  }

  /** A state transition of contract §4; unconfirmed permanent steps answer their impact preview (key-lifecycle.ts). */
  setState(name: string, keyId: string, to: KeyState, confirmed: boolean): Promise<StateChangeOutcome> {
    return this.#lifecycle.setState(name, keyId, to, confirmed);
  }

  /**
   * Schedules (or, without a deletion window, does) the destruction of a version (key-deletion.ts), after the stored
   * policy's default window or `windowMs` when given (never shorter than the policy's minimum).
   */
  delete(name: string, keyId: string, confirmed: boolean, windowMs?: number): Promise<StateChangeOutcome> {
    return this.#deletion.delete(name, keyId, confirmed, windowMs);
  }

  /** Takes back a scheduled delete before its `destroyAt`: the version is exactly as it was before. */
  cancelDeletion(name: string, keyId: string): Promise<VersionSummary> {
    return this.#deletion.cancelDeletion(name, keyId);
  }

  /** The scheduler's half of the deletion window: destroys every version whose `destroyAt` has come. */
  destroyDueVersions(): Promise<VersionSummary[]> {
    return this.#deletion.destroyDueVersions();
  }

  /** What deleting a version or moving it to `to` would do, as a read: no audit entry, no intent, no token call. */
  impact(name: string, keyId: string, to: KeyState): Promise<ImpactPreview> {
    return this.#reads.impact(name, keyId, to);
  }

  /** PKCS#11 evidence per version, read from the token itself, with the verdict (contract §3 `attest`). A read. */
  attest(name: string, keyId?: string): Promise<{ name: string; versions: VersionAttestation[] }> {
    return this.#reads.attest(name, keyId);
  }

  /** The stored admin policy (contract §10), as every instance and path sees it (`dke policy show`, GET policy). */
  policy(): AdminPolicyView {
    return policyView(this.#ctx.policy());
  }

  /** Stricter applies at once; weaker waits for the approvals the policy in force requires (admin-policy-change.ts). */
  setPolicy(change: Partial<AdminPolicy>): Promise<AdminPolicyView | Proposed> {
    return this.#policy.set(change);
  }

  /** The kill switch as every instance sees it on its next request (contract §3 `dke emergency`, §6). */
  emergencyBlock(): EmergencyBlockView {
    return this.#emergency.view();
  }

  /** Sets or lifts the kill switch; lifting it waits for a second admin when approvals are required. */
  setEmergencyBlock(on: boolean): Promise<EmergencyBlockView | Proposed> {
    return this.#emergency.set(on);
  }

  /** The rotation schedule (contract §3 `dke keys rotation`): a span such as 90d, or undefined for none. */
  async setRotation(name: string, every: string | undefined): Promise<KeyView> {
    await this.#rotation.set(name, every);
    return this.show(name);
  }

  /** The scheduler's rotation job: every key name whose newest Active version is older than its period gets a new one. */
  rotateDueKeys(): Promise<CreatedVersion[]> {
    return this.#rotation.rotateDueKeys();
  }

  /** Every proposal of the two-person rule, oldest first (`dke approvals list`, GET /admin/api/approvals). */
  approvals(): Promise<ApprovalView[]> {
    return this.#approvals.approvals();
  }

  /** A second admin approves a proposal, which then runs as this admin would run it (key-approvals.ts). */
  approve(id: string): Promise<{ approval: ApprovalView; result: unknown }> {
    return this.#approvals.approve(id);
  }

  /** Either admin (the proposer too, to withdraw it) rejects a pending proposal; nothing else happens. */
  reject(id: string): Promise<ApprovalView> {
    return this.#approvals.reject(id);
  }

  list(): Promise<KeyView[]> {
    return this.#reads.list();
  }

  show(name: string): Promise<KeyView> {
    return this.#reads.show(name);
  }

  /** `dke keys reconcile [--dry-run]` and the service at start: see key-reconcile.ts. */
  reconcile(dryRun: boolean): Promise<ReconcileReport> {
    return reconcile(this.#takeoverDeps(), this.#ctx.audit, dryRun);
  }

  /** Issue 25: the unfinished steps whose holder's lease has passed, taken over and finished (intent-takeover.ts). */
  takeOverUnfinishedSteps(): Promise<TakenOverStep[]> {
    return takeOverUnfinishedSteps(this.#takeoverDeps(), this.#ctx.audit);
  }

  #takeoverDeps(): TakeoverDeps {
    const { store, vault, owner, intentLeaseMs } = this.#ctx.deps;
    return { store, vault, owner: owner ?? 'unknown', leaseMs: intentLeaseMs ?? DEFAULT_INTENT_LEASE_MS, now: this.#ctx.now };
  }

  /** Issue 25: the permanent states the token records and the store lost, re-applied and audited (restore-conflicts.ts). */
  applyTokenRecords(behind: readonly AnchoredState[]): Promise<KeyVersionRef[]> {
    return applyTokenRecords(this.#ctx, behind);
  }

  /** `dke audit` and `GET /admin/api/audit`: a page of the filtered entries, newest first (audit-reads.ts). */
  auditPage(filter: AuditFilter, paging: { readonly beforeSeq?: number; readonly limit?: number } = {}): Promise<AuditPage> {
    return this.#audit.page(filter, paging);
  }

  /** `dke audit --format` and `GET /admin/api/audit/export`: every filtered entry, oldest first, read in batches. */
  auditExport(filter: AuditFilter): AsyncGenerator<AuditEntry> {
    return this.#audit.exported(filter);
  }

  /** `dke audit verify`: a removed, edited, reordered or truncated entry breaks the hash chain against its head. */
  verifyAudit(archives: readonly string[] = []): Promise<AuditVerification & { readonly archives?: readonly ArchiveCheck[] }> {
    return this.#audit.verify(archives);
  }

  /** `dke audit archive --before TIME --to FILE` (issue 17): see audit-reads.ts. */
  archiveAudit(before: Date, file: string): Promise<ArchiveResult | undefined> {
    return this.#audit.archive(before, file);
  }

  /** An approved proposal's step, run through the family that owns it (the state table is asked again now). */
  #runApproved(approval: Approval): Promise<unknown> {
    switch (approval.operation) {
      case 'set-state':
        return this.setState(approval.keyName!, approval.keyId!, approval.state!, true);
      case 'delete': {
        const window = approval.proposed !== undefined && 'windowMs' in approval.proposed ? approval.proposed.windowMs : undefined;
        return this.delete(approval.keyName!, approval.keyId!, true, window);
      }
      case 'emergency-unblock':
        return this.setEmergencyBlock(false);
      case 'set-policy':
        if (approval.proposed === undefined || !('policy' in approval.proposed)) return Promise.reject(new TypeError('a set-policy proposal without its policy'));
        return this.setPolicy(approval.proposed.policy);
    }
  }
}
