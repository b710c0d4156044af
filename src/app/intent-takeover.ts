import { HsmUnavailable } from '../keys/errors.js';
import { isKeyState } from '../keys/key-version.js';
import { DELETED_STATE, permanenceRank } from '../keys/lifecycle.js';
import type { Intent, KeyStateStore, KeyVault } from '../keys/ports.js';
import type { AdminAudit } from './admin-audit.js';
import { intentRef } from './admin-intents.js';
import { holdingLease, leaseEnd } from './intent-lease.js';

export interface TakeoverDeps {
  readonly store: KeyStateStore;
  readonly vault: KeyVault;
  /** This process (`host:pid`): the intents it takes over become its own, and the audit entries name it. */
  readonly owner: string;
  readonly leaseMs: number;
  readonly now: () => Date;
}

/** One unfinished step whose holder's lease had passed, and what was done with it. */
export interface TakenOverStep {
  readonly intent: Intent;
  readonly outcome: string;
}

/** Has the holder's lease on this intent passed at `now`? */
export function leaseHasPassed(intent: Intent, now: Date): boolean {
  return intent.leaseUntil <= now.toISOString();
}

/**
 * Issue 25: every unfinished step whose holder stopped renewing its lease (a dead process, a pod that never came back,
 * a command on another host, or one whose database went away before its last write) is taken over, compare-and-set
 * on the lease as read, so of several instances exactly one gets each; then rolled forward or back as `resolve`
 * says, audited with who took it over from whom. Steps still leased are left to their holder. Run by every instance
 * every second (main/service-jobs.ts) and by `dke keys reconcile`.
 */
export async function takeOverUnfinishedSteps(deps: TakeoverDeps, audit: AdminAudit, pending?: readonly Intent[]): Promise<TakenOverStep[]> {
  const done: TakenOverStep[] = [];
  for (const intent of pending ?? (await deps.store.pendingIntents())) {
    const now = deps.now();
    if (!leaseHasPassed(intent, now)) continue;
    const taken = await deps.store.change((tx) => tx.takeOverIntent(intent, deps.owner, now.toISOString(), leaseEnd(now, deps.leaseMs)));
    if (!taken) continue;
    const ours: Intent = { ...intent, owner: deps.owner, leaseUntil: leaseEnd(now, deps.leaseMs) };
    const outcome = await holdingLease(deps.store, ours, deps.leaseMs, deps.now, () => resolveInItsVault(deps, audit, ours, intent.owner));
    // Left for its vault: the lease ends now, so the next takeover (any instance, or a reconcile) may try at once.
    if (outcome === VAULT_DOWN_OUTCOME) await deps.store.renewIntentLease(ours.id, deps.owner, deps.now().toISOString()).catch(() => false);
    done.push({ intent, outcome });
  }
  return done;
}

const VAULT_DOWN_OUTCOME = 'left unfinished: the HSM of its vault does not answer now; it is finished once it does (by any instance, or "dke keys reconcile" again)';

/**
 * A step whose vault's token does not answer (contract §9) is left as it is: its lease passes again and the next
 * takeover, by any instance, resolves it once the vault answers.
 */
async function resolveInItsVault(deps: TakeoverDeps, audit: AdminAudit, intent: Intent, from: string): Promise<string> {
  try {
    return await resolve(deps, audit, intent, from);
  } catch (error) {
    if (!(error instanceof HsmUnavailable)) throw error;
    return VAULT_DOWN_OUTCOME;
  }
}

/** Is this step finished when taken over (the version moves on), rather than rolled back (it never existed)? */
export function finishesWhenTakenOver(intent: Pick<Intent, 'action'>): boolean {
  return intent.action === 'set-state' || intent.action === 'delete';
}

/**
 * A create, rotate or import is rolled back (its key pair destroyed: the version never existed); a set-state or
 * delete is finished (CKA_DECRYPT cleared or the objects destroyed again, idempotently, then the state written
 * compare-and-set), each with its audit entry in the transaction that ends the intent.
 */
async function resolve(deps: TakeoverDeps, audit: AdminAudit, intent: Intent, from: string): Promise<string> {
  const takenOver = { intentActor: intent.actor, takenOverBy: deps.owner, takenOverFrom: from };
  if (!finishesWhenTakenOver(intent)) {
    const objectsDestroyed = await deps.vault.destroy(intentRef(intent));
    await deps.store.change(async (tx) => {
      await audit.within(tx).succeeded('reconcile', intent.name, intent.keyId, { intent: intent.action, ...takenOver, result: 'rolled back', objectsDestroyed });
      await tx.finishIntent(intent.id);
    });
    return objectsDestroyed ? 'rolled back: the orphan key pair was destroyed' : 'rolled back: no key pair had been made';
  }
  const fromState = String(intent.details.from);
  const target = intent.action === 'delete' ? DELETED_STATE : String(intent.details.to);
  if (!isKeyState(fromState) || !isKeyState(target)) {
    await deps.store.change(async (tx) => {
      await audit.within(tx).refused('reconcile', intent.name, intent.keyId, 'the unfinished step does not say which states it moved between', { intent: intent.action, ...takenOver });
      await tx.finishIntent(intent.id);
    });
    return 'dropped: the intent was incomplete';
  }
  const token: Record<string, boolean> =
    intent.action === 'delete' ? { objectsDestroyed: await deps.vault.destroy(intent) } : { decryptClearedInToken: await deps.vault.forbidDecrypt(intent) };
  // Issue 25: the step's record on the token, which its command may have died before writing.
  if (permanenceRank(target) > 0) await deps.vault.anchorState({ name: intent.name, keyId: intent.keyId }, target, deps.now().toISOString());
  const written = await deps.store.change(async (tx) => {
    const changed = await tx.setState(intent.name, intent.keyId, fromState, target, deps.now().toISOString());
    await audit.within(tx).succeeded('reconcile', intent.name, intent.keyId, {
      intent: intent.action,
      ...takenOver,
      result: changed ? 'finished' : 'token step finished; the state had changed meanwhile',
      from: fromState,
      to: target,
      ...token,
    });
    await tx.finishIntent(intent.id);
    return changed;
  });
  const tokenSentence =
    intent.action === 'delete' ? (token.objectsDestroyed ? 'objects destroyed' : 'no object left to destroy') : token.decryptClearedInToken ? 'CKA_DECRYPT cleared' : 'the token kept CKA_DECRYPT';
  return written ? `finished: ${tokenSentence}, state ${target}` : `token step finished (${tokenSentence}); the state had changed meanwhile`;
}
