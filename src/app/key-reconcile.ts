import type { Intent, KeyVersionRef } from '../keys/ports.js';
import type { AdminAudit } from './admin-audit.js';
import { finishesWhenTakenOver, leaseHasPassed, takeOverUnfinishedSteps, type TakeoverDeps } from './intent-takeover.js';
import { reachableTokenView } from './vault-readiness.js';
import { compareStoreWithToken } from './store-token-consistency.js';

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
  /** Intents whose holder still renews its lease (a command or request still running): left alone. */
  readonly inProgress: number;
  /** Token objects labelled by this service that no record knows. */
  readonly unknownObjects: readonly KeyVersionRef[];
  /** Active or Pre-Active versions whose private key is not in the token. */
  readonly missingPrivateKeys: readonly KeyVersionRef[];
  /** Vaults whose token did not answer (contract §9): not compared, and their unfinished steps left for a later run. */
  readonly unreachableVaults?: readonly string[];
}

/**
 * `dke keys reconcile` (issue 17), also run by the service at start: every unfinished token step whose holder's
 * lease has passed is taken over and rolled back or finished, exactly as every instance does it by itself (issue 25,
 * intent-takeover.ts). Then the records are compared with the token. `dryRun` changes nothing and lists what would
 * be done.
 */
export async function reconcile(deps: TakeoverDeps, audit: AdminAudit, dryRun: boolean): Promise<ReconcileReport> {
  const pending = await deps.store.pendingIntents();
  const expired = pending.filter((i) => leaseHasPassed(i, deps.now()));
  const describe = (intent: Intent): ReconcileStep => ({
    action: intent.action,
    name: intent.name,
    keyId: intent.keyId,
    actor: intent.actor,
    startedAt: intent.createdAt,
    resolution: finishesWhenTakenOver(intent) ? 'finish' : 'roll back',
  });
  const steps: ReconcileStep[] = dryRun
    ? expired.map(describe)
    : (await takeOverUnfinishedSteps(deps, audit, expired)).map(({ intent, outcome }) => ({ ...describe(intent), outcome }));
  const live = dryRun ? pending.filter((i) => !expired.includes(i)) : await deps.store.pendingIntents();
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
