import { isKeyState } from '../keys/key-version.js';
import { DELETED_STATE } from '../keys/lifecycle.js';
import type { Intent, KeyStateStore, KeyVault, KeyVersionRef } from '../keys/ports.js';
import type { AdminAudit } from './admin-audit.js';
import { HsmUnavailable } from '../keys/errors.js';
import { intentRef } from './admin-intents.js';
import { reachableTokenView } from './vault-readiness.js';
import { compareStoreWithToken } from './store-token-consistency.js';

export interface ReconcileDeps {
  readonly store: KeyStateStore;
  readonly vault: KeyVault;
  readonly isOwnerAlive?: (owner: string) => boolean;
  readonly now: () => Date;
}

/** What the reconcile does (or, with --dry-run, would do) with one unfinished step. */
export interface ReconcileStep {
  readonly action: Intent['action'];
  readonly name: string;
  readonly keyId: string;
  readonly actor: string;
  readonly startedAt: string;
  readonly resolution: 'roll back' | 'finish';
  /** What was done in the token and the store (absent on a dry run). */
  readonly outcome?: string;
}

export interface ReconcileReport {
  readonly dryRun: boolean;
  readonly steps: readonly ReconcileStep[];
  /** Intents of a command that is still running: left alone. */
  readonly inProgress: number;
  /** Token objects labelled by this service that no record knows. */
  readonly unknownObjects: readonly KeyVersionRef[];
  /** Active or Pre-Active versions whose private key is not in the token. */
  readonly missingPrivateKeys: readonly KeyVersionRef[];
  /** Vaults whose token did not answer (contract §9): not compared, and their unfinished steps left for a later run. */
  readonly unreachableVaults?: readonly string[];
}

/**
 * `dke keys reconcile` (issue 17), also run by the service at start: every unfinished token step of a command that
 * is no longer running is rolled back (a create, rotate or import: its key pair is destroyed, the version never
 * existed) or finished (a set-state: CKA_DECRYPT cleared and the state written; a delete: the objects destroyed and
 * the version Destroyed), each with its audit entry in the transaction that ends the intent. Then the records are
 * compared with the token. `dryRun` changes nothing and lists what would be done.
 */
export async function reconcile(deps: ReconcileDeps, audit: AdminAudit, dryRun: boolean): Promise<ReconcileReport> {
  const pending = await deps.store.pendingIntents();
  const stale = pending.filter((i) => !(deps.isOwnerAlive?.(i.owner) ?? false));
  const steps: ReconcileStep[] = [];
  for (const intent of stale) {
    const step: ReconcileStep = {
      action: intent.action,
      name: intent.name,
      keyId: intent.keyId,
      actor: intent.actor,
      startedAt: intent.createdAt,
      resolution: intent.action === 'set-state' || intent.action === 'delete' ? 'finish' : 'roll back',
    };
    steps.push(dryRun ? step : { ...step, outcome: await resolveInItsVault(deps, audit, intent) });
  }
  const live = pending.filter((i) => !stale.includes(i));
  const { records, objects, unreachable } = await reachableTokenView(deps.vault, deps.store.listKeys());
  const { missingPrivateKeys, unknownObjects } = compareStoreWithToken(records, objects, live);
  if (!dryRun) {
    await audit.succeeded('reconcile', undefined, undefined, {
      stepsResolved: steps.length,
      inProgress: live.length,
      unknownObjects: unknownObjects.length,
      missingPrivateKeys: missingPrivateKeys.length,
    });
  }
  return { dryRun, steps, inProgress: live.length, unknownObjects, missingPrivateKeys, ...(unreachable.length > 0 ? { unreachableVaults: unreachable } : {}) };
}

/** A step whose vault's token does not answer is left as it is (its intent stays) for a run once it does. */
async function resolveInItsVault(deps: ReconcileDeps, audit: AdminAudit, intent: Intent): Promise<string> {
  try {
    return await resolve(deps, audit, intent);
  } catch (error) {
    if (!(error instanceof HsmUnavailable)) throw error;
    return 'left unfinished: the HSM of its vault does not answer now; run "dke keys reconcile" again once it does';
  }
}

async function resolve(deps: ReconcileDeps, audit: AdminAudit, intent: Intent): Promise<string> {
  if (intent.action === 'create' || intent.action === 'rotate' || intent.action === 'import') {
    const objectsDestroyed = await deps.vault.destroy(intentRef(intent));
    await deps.store.change(async (tx) => {
      await audit.within(tx).succeeded('reconcile', intent.name, intent.keyId, { intent: intent.action, intentActor: intent.actor, result: 'rolled back', objectsDestroyed });
      await tx.finishIntent(intent.id);
    });
    return objectsDestroyed ? 'rolled back: the orphan key pair was destroyed' : 'rolled back: no key pair had been made';
  }
  const { from, to } = intent.details;
  const target = intent.action === 'delete' ? DELETED_STATE : to;
  if (typeof from !== 'string' || typeof target !== 'string' || !isKeyState(from) || !isKeyState(target)) {
    await deps.store.change(async (tx) => {
      await audit.within(tx).refused('reconcile', intent.name, intent.keyId, 'the unfinished step does not say which states it moved between', { intent: intent.action });
      await tx.finishIntent(intent.id);
    });
    return 'dropped: the intent was incomplete';
  }
  const token: Record<string, boolean> =
    intent.action === 'delete' ? { objectsDestroyed: await deps.vault.destroy(intent) } : { decryptClearedInToken: await deps.vault.forbidDecrypt(intent) };
  const written = await deps.store.change(async (tx) => {
    const changed = await tx.setState(intent.name, intent.keyId, from, target, deps.now().toISOString());
    await audit.within(tx).succeeded('reconcile', intent.name, intent.keyId, {
      intent: intent.action,
      intentActor: intent.actor,
      result: changed ? 'finished' : 'token step finished; the state had changed meanwhile',
      from,
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
