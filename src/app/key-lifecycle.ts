import { randomUUID } from 'node:crypto';
import { AdminConflict, AdminRefused } from '../keys/errors.js';
import type { AllowList, KeyState } from '../keys/key-version.js';
import type { Intent, StoreTransaction } from '../keys/ports.js';
import { canToggleEnabled, clearsDecryptInToken, DEFAULT_INITIAL_STATE, INITIAL_STATES, isPermanentTransition, STATE_RULES, stateList } from '../keys/lifecycle.js';
import { keyIdProblem, keyNameProblem } from '../keys/names.js';
import type { AdminContext } from './admin-context.js';
import { addVersionRefusal, anchorPermanentState, changedSince, completeStateChange, type IntentStep, nameExistsRefusal, recordAfterTokenStep, rollBackCreation, tokenStepUnderIntent } from './admin-intents.js';
import { propose } from './key-approvals.js';
import { grantAllowList } from './key-grants.js';
import type { CreatedVersion, StateChangeOutcome, VersionSummary } from './key-admin-views.js';
import { impactPreview, setStateCheck } from './key-impact.js';

export interface CreateKeyOptions {
  /** One of the table's initial states (keys/lifecycle.ts); default Active. */
  readonly state?: KeyState;
  readonly allow?: AllowList;
  readonly keyId?: string;
  /** The vault whose token makes the key pair (contract §9); default: the instance's default vault. */
  readonly vault?: string;
}

/**
 * The lifecycle of key names and versions (contract §3, §4): create, rotate, the Enabled flag and the state
 * transitions of set-state. Deletion lives in key-deletion.ts. State changes ask the state table (keys/lifecycle.ts)
 * what is allowed; every outcome is audited through the context's AdminAudit.
 */
export class KeyLifecycle {
  readonly #ctx: AdminContext;

  constructor(ctx: AdminContext) {
    this.#ctx = ctx;
  }

  /** Generates a new key name's first version inside the HSM and publishes it. */
  async create(name: string, options: CreateKeyOptions = {}): Promise<CreatedVersion> {
    const problem = keyNameProblem(name);
    if (problem !== undefined) throw await this.#ctx.audit.refusal('create', name, problem);
    if (this.#ctx.deps.store.findKey(name) !== undefined) {
      throw await this.#ctx.audit.refusal('create', name, nameExistsRefusal(name), undefined, AdminConflict);
    }
    return this.#generateVersion(name, options, 'create');
  }

  /** A new Active version generated in the HSM becomes the published one; older versions keep decrypting. */
  async rotate(name: string, options: Pick<CreateKeyOptions, 'vault'> = {}): Promise<CreatedVersion> {
    await this.#ctx.requireKey(name);
    return this.#generateVersion(name, options, 'rotate');
  }

  /** The reversible block (contract §4): never revives a Deactivated, Compromised or Destroyed version. */
  async setEnabled(name: string, keyId: string, enabled: boolean): Promise<VersionSummary> {
    const ctx = this.#ctx;
    const action = enabled ? 'enable' : 'disable';
    const version = await ctx.requireVersion(action, name, keyId);
    if (!canToggleEnabled(version.state)) {
      throw await ctx.audit.refusal(action, name, `Version ${keyId} of "${name}" is Destroyed; there is nothing to ${action}.`, keyId, AdminConflict);
    }
    const blocksServed = !enabled && ctx.isServed(name, keyId);
    // Written compare-and-set with its audit entry in one transaction: a version destroyed meanwhile is refused.
    const changed = await ctx.deps.store.change(async (tx) => {
      if (!(await tx.setEnabled(name, keyId, enabled, ctx.now().toISOString()))) return false;
      await ctx.audit.within(tx).succeeded(action, name, keyId, { from: version.enabled ? 'enabled' : 'disabled', to: enabled ? 'enabled' : 'disabled', state: version.state });
      return true;
    });
    if (!changed) throw await ctx.audit.refusal(action, name, `Version ${keyId} of "${name}" was destroyed meanwhile; there is nothing to ${action}.`, keyId, AdminConflict);
    return { name, keyId, state: version.state, enabled, ...ctx.cachedKeyNotice(blocksServed, name, keyId) };
  }

  /**
   * The permanent steps of contract §4 are checked against the state table, previewed with their impact from the
   * audit trail unless confirmed (`--yes`), written compare-and-set, made physical in the token where it allows
   * (CKA_DECRYPT cleared), and audited.
   */
  async setState(name: string, keyId: string, to: KeyState, confirmed: boolean): Promise<StateChangeOutcome> {
    const ctx = this.#ctx;
    const version = await ctx.requireVersion('set-state', name, keyId);
    const check = setStateCheck(version, to);
    if (check !== undefined) throw await ctx.audit.refusal('set-state', name, check.why, keyId, check.Refusal);
    if (isPermanentTransition(to) && !confirmed) return { applied: false, preview: await impactPreview(ctx, version, to) };
    if (isPermanentTransition(to) && ctx.needsApproval()) return { applied: false, approval: await propose(ctx, 'set-state', { keyName: name, keyId, state: to }) };
    const blocksServed = !STATE_RULES[to].publishable && ctx.isServed(name, keyId);
    let decryptClearedInToken: boolean | undefined;
    let intent: Intent | undefined;
    if (clearsDecryptInToken(to)) {
      // Issue 17: intent, then the token step, then state + audit + end of intent in one transaction.
      const step: IntentStep = { action: 'set-state', ref: version, details: { from: version.state, to }, check: (tx) => changedSince(tx, version) };
      ({ intent, token: decryptClearedInToken } = await tokenStepUnderIntent(ctx, step, async () => {
        const cleared = await ctx.deps.vault.forbidDecrypt(version);
        await anchorPermanentState(ctx, version, to);
        return cleared;
      }));
    }
    await completeStateChange(ctx, intent, version, to, 'set-state', decryptClearedInToken !== undefined ? { decryptClearedInToken } : {});
    return {
      applied: true,
      version: { name, keyId, state: to, enabled: version.enabled, ...ctx.cachedKeyNotice(blocksServed, name, keyId) },
      ...(decryptClearedInToken !== undefined ? { decryptClearedInToken } : {}),
    };
  }

  /**
   * Create and rotate (issue 17): the intent is written with the precondition checked in the same transaction, so of
   * several CLIs racing on one name exactly one gets past it and the others are refused before the token is touched;
   * then the key pair is generated; then the version, its audit entry and the end of the intent commit together.
   */
  async #generateVersion(name: string, options: CreateKeyOptions, action: 'create' | 'rotate'): Promise<CreatedVersion> {
    const ctx = this.#ctx;
    const keyId = options.keyId ?? randomUUID();
    const idProblem = keyIdProblem(keyId);
    if (idProblem !== undefined) throw await ctx.audit.refusal(action, name, idProblem);
    await ctx.assertAllowEntries(action, name, options.allow);
    const state = options.state ?? DEFAULT_INITIAL_STATE;
    if (!INITIAL_STATES.includes(state)) throw await ctx.audit.refusal(action, name, `A new version starts ${stateList(INITIAL_STATES)}, not ${state}.`);
    const vault = await ctx.vaultForNewKey(action, name, options.vault);
    const ref = { name, keyId, vault };
    const check = async (tx: StoreTransaction) => {
      const exists = (await tx.findKey(name)) !== undefined;
      if (action === 'create' && exists) return addVersionRefusal(name, keyId, 'name-exists');
      if (action === 'rotate' && !exists) return addVersionRefusal(name, keyId, 'name-missing');
      return undefined;
    };
    const { intent, token: publicKey } = await tokenStepUnderIntent(
      ctx,
      { action, ref, details: { state, vault }, check },
      () => ctx.deps.vault.generateKeyPair(ref),
      (begun, error) => rollBackCreation(ctx, begun, error),
    );
    const result = await recordAfterTokenStep(intent, () => ctx.deps.store.change(async (tx) => {
      const added = await tx.addVersion(
        {
          name,
          keyId,
          state,
          origin: 'generated',
          publish: true,
          publicKey,
          vault,
          nameMustBe: action === 'create' ? 'new' : 'existing',
        },
        ctx.now().toISOString(),
      );
      if (added === 'added') {
        await ctx.audit.within(tx).succeeded(action, name, keyId, { state, origin: 'generated', vault });
        if (action === 'create') await grantAllowList(tx, ctx.audit, name, options.allow, 'create');
        await tx.finishIntent(intent.id);
      }
      return added;
    }));
    if (result !== 'added') {
      await rollBackCreation(ctx, intent, new AdminRefused(addVersionRefusal(name, keyId, result)));
      throw await ctx.audit.refusal(action, name, addVersionRefusal(name, keyId, result), keyId, AdminConflict);
    }
    return { name, keyId, state, enabled: true };
  }
}
