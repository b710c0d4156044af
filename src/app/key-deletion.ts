import { AdminConflict } from '../keys/errors.js';
import { spanWords } from '../keys/durations.js';
import type { DeletionSchedule, KeyVersion } from '../keys/key-version.js';
import { DELETED_STATE, isDeletion, isTransitionAllowed, stateLabel } from '../keys/lifecycle.js';
import type { StoreTransaction } from '../keys/ports.js';
import type { AdminContext } from './admin-context.js';
import { anchorPermanentState, changedSince, completeStateChange, tokenStepUnderIntent } from './admin-intents.js';
import { propose } from './key-approvals.js';
import type { StateChangeOutcome, VersionSummary } from './key-admin-views.js';
import { deleteCheck, impactPreview } from './key-impact.js';

/**
 * Deleting a version and its deletion window (contract §4, DKE_DELETION_WINDOW): `delete` schedules the destruction
 * (or destroys at once without a window), `cancel-deletion` takes it back, and the scheduler destroys what fell due.
 */
export class KeyDeletion {
  readonly #ctx: AdminContext;

  constructor(ctx: AdminContext) {
    this.#ctx = ctx;
  }

  /**
   * Destroys the version's private and public objects in the token and keeps the record as Destroyed, so its key
   * id answers 404 from then on and the audit trail still explains it. Only Pre-Active and Active versions.
   * Run again on a Destroyed version, it removes objects a failed earlier run may have left.
   */
  async delete(name: string, keyId: string, confirmed: boolean, window?: number): Promise<StateChangeOutcome> {
    const ctx = this.#ctx;
    const version = await ctx.requireVersion('delete', name, keyId);
    const retry = isDeletion(version.state);
    const check = deleteCheck(version);
    if (check !== undefined) throw await ctx.audit.refusal('delete', name, check.why, keyId, check.Refusal);
    // Contract §10: the stored policy's default window, or one asked for that is not shorter than its minimum.
    const { deletionWindowDefaultMs, deletionWindowMinimumMs } = ctx.policy();
    const windowMs = window ?? deletionWindowDefaultMs;
    if (!retry && windowMs < deletionWindowMinimumMs) {
      const sentence = `A deletion window of ${spanWords(windowMs)} is shorter than the admin policy's minimum of ${spanWords(deletionWindowMinimumMs)}; delete with a window of ${spanWords(deletionWindowMinimumMs)} or more.`;
      throw await ctx.audit.refusal('delete', name, sentence, keyId);
    }
    if (!confirmed) return { applied: false, preview: await impactPreview(ctx, version, DELETED_STATE) };
    if (!retry && ctx.needsApproval()) {
      return { applied: false, approval: await propose(ctx, 'delete', { keyName: name, keyId, ...(window !== undefined ? { proposed: { windowMs } } : {}) }) };
    }
    if (retry || windowMs === 0) return this.#destroyNow(version, 'delete');
    // The deletion window (contract §4): from now on the version neither decrypts nor is published; its state,
    // Enabled flag and publication stay as they are, so cancel-deletion restores it exactly.
    const blocksServed = ctx.isServed(name, keyId);
    const now = ctx.now();
    const deletion = { requestedAt: now.toISOString(), destroyAt: new Date(now.getTime() + windowMs).toISOString() };
    const scheduled = await ctx.deps.store.change(async (tx) => {
      if (!(await tx.scheduleDeletion(name, keyId, version.state, deletion))) return (await changedSince(tx, version)) ?? `Version ${keyId} of "${name}" is already scheduled for destruction.`;
      await ctx.audit.within(tx).succeeded('delete', name, keyId, { from: version.state, scheduled: true, destroyAt: deletion.destroyAt });
      return undefined;
    });
    if (scheduled !== undefined) throw await ctx.audit.refusal('delete', name, scheduled, keyId, AdminConflict);
    const notice = ctx.cachedKeyNotice(blocksServed, name, keyId);
    return { applied: true, version: { name, keyId, state: version.state, enabled: version.enabled, ...notice }, deletion };
  }

  /** Takes back a scheduled delete before its `destroyAt` (contract §4): the version is exactly as it was before. */
  async cancelDeletion(name: string, keyId: string): Promise<VersionSummary> {
    const ctx = this.#ctx;
    const version = await ctx.requireVersion('cancel-deletion', name, keyId);
    if (version.deletion === undefined || isDeletion(version.state)) {
      throw await ctx.audit.refusal('cancel-deletion', name, `Version ${keyId} of "${name}" has no deletion to cancel${isDeletion(version.state) ? ': it is Destroyed' : ''}.`, keyId, AdminConflict);
    }
    const cancelled = await ctx.deps.store.change(async (tx) => {
      if (!(await tx.cancelDeletion(name, keyId))) return false;
      await ctx.audit.within(tx).succeeded('cancel-deletion', name, keyId, { state: version.state, destroyAt: version.deletion?.destroyAt ?? null });
      return true;
    });
    if (!cancelled) throw await ctx.audit.refusal('cancel-deletion', name, `Version ${keyId} of "${name}" was destroyed meanwhile.`, keyId, AdminConflict);
    return { name, keyId, state: version.state, enabled: version.enabled };
  }

  /**
   * The scheduler's half of the deletion window: every version whose `destroyAt` has come is destroyed in the HSM and
   * recorded Destroyed (action `destroy`), through the same crash-consistent steps as an immediate delete. A run that
   * died half-way is finished by the next: a version already Destroyed only has its leftovers removed and its
   * schedule closed; an intent left behind is the reconcile's (the caller runs it first). A key name whose step is
   * still in progress (its holder, or an instance that took it over, is finishing it) is left for the next pass, so
   * that one key's step never stops the destruction of the others.
   */
  async destroyDueVersions(): Promise<VersionSummary[]> {
    const ctx = this.#ctx;
    const now = ctx.now().toISOString();
    // Contract §10: nothing is destroyed sooner than the stored minimum window after its delete, even when it was
    // scheduled before the minimum was raised.
    const minimumMs = ctx.policy().deletionWindowMinimumMs;
    const isDue = (deletion: DeletionSchedule): boolean => deletion.destroyAt <= now && Date.parse(deletion.requestedAt) + minimumMs <= Date.parse(now);
    const inProgress = new Set((await ctx.deps.store.pendingIntents()).map((intent) => intent.name));
    const due = ctx.deps.store
      .listKeys()
      .filter((record) => !inProgress.has(record.name))
      .flatMap((record) => record.versions.filter((v) => v.deletion !== undefined && isDue(v.deletion)));
    const destroyed: VersionSummary[] = [];
    for (const version of due) {
      if (!isDeletion(version.state) && !isTransitionAllowed(version.state, DELETED_STATE)) {
        // Cannot happen through KeyAdmin (set-state is refused while a deletion waits); recorded rather than guessed.
        await ctx.deps.store.change(async (tx) => {
          await ctx.audit.within(tx).refused('destroy', version.name, version.keyId, `Version ${version.keyId} is ${stateLabel(version.state)}; the scheduled destruction is dropped.`);
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
    const ctx = this.#ctx;
    const { name, keyId } = version;
    const finishSchedule = async (tx: StoreTransaction): Promise<void> => {
      if (version.deletion !== undefined) await tx.finishDeletion(name, keyId);
    };
    const destroyAndAnchor = async (): Promise<boolean> => {
      const destroyed = await ctx.deps.vault.destroy(version);
      await anchorPermanentState(ctx, version, DELETED_STATE);
      return destroyed;
    };
    if (isDeletion(version.state)) {
      const objectsDestroyed = await destroyAndAnchor();
      await ctx.deps.store.change(async (tx) => {
        await ctx.audit.within(tx).succeeded(action, name, keyId, { from: version.state, to: DELETED_STATE, objectsDestroyed });
        await finishSchedule(tx);
      });
      return { applied: true, version: { name, keyId, state: DELETED_STATE, enabled: version.enabled }, objectsDestroyed };
    }
    const blocksServed = ctx.isServed(name, keyId);
    const { intent, token: objectsDestroyed } = await tokenStepUnderIntent(
      ctx,
      { action: 'delete', ref: version, details: { from: version.state, to: DELETED_STATE }, check: (tx) => changedSince(tx, version), label: action },
      destroyAndAnchor,
    );
    await completeStateChange(ctx, intent, version, DELETED_STATE, action, { objectsDestroyed }, finishSchedule);
    const notice = ctx.cachedKeyNotice(blocksServed, name, keyId);
    return { applied: true, version: { name, keyId, state: DELETED_STATE, enabled: version.enabled, ...notice }, objectsDestroyed };
  }
}
