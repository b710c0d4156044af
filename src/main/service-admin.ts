import type { KeyAdmin } from '../app/key-admin.js';
import { backfillPublicKeys } from '../app/public-key-backfill.js';
import { ensureStoredPolicy } from '../app/stored-policy.js';
import type { Config } from '../config/config.js';
import type { Logger } from '../keys/ports.js';
import type { KeyStore } from '../store/key-store.js';
import { adminProcess, type AdminProcess } from './admin-process.js';
import { keyAdmins, type KeyAdminFactory, type KeyAdminParts } from './key-admins.js';

export interface ServiceAdmin {
  /** The KeyAdmin of one actor on this instance (its reconcile, the scheduler, the admin API's callers). */
  readonly adminAs: KeyAdminFactory;
  /** This process as the holder of intents and of the scheduler's lease. */
  readonly process: AdminProcess;
}

/**
 * The service's key administration, made ready before it serves: the unfinished admin steps of commands that died are
 * reconciled, and public keys that older stores lack are read from the token.
 */
export async function startServiceAdmin(config: Config, parts: KeyAdminParts & { readonly store: KeyStore }, logger: Logger): Promise<ServiceAdmin> {
  const thisProcess = adminProcess();
  const adminAs = keyAdmins(config, parts, thisProcess);
  // The first start on a store without a policy (one just upgraded) seeds it from this configuration (contract §10).
  // A database that does not answer yet must not stop the start (contract §5: the service runs and says so in its
  // readiness); until a later start or any CLI command seeds it, this instance reads its configuration as the policy.
  await ensureStoredPolicy(parts.store, config).catch((error: unknown) =>
    logger.warn('the admin policy could not be seeded into the store; this instance uses its configuration until the store has one', { reason: error instanceof Error ? error.message : String(error) }),
  );
  await reconcileAtStart(adminAs('dke-service'), parts.store, logger);
  const missingPublicKeys = await backfillPublicKeys(parts.store, parts.vault).catch((error: unknown) => [`not tried: ${error instanceof Error ? error.message : String(error)}`]);
  if (missingPublicKeys.length > 0) {
    logger.warn('public keys of older versions could not be read from the token yet; retried at the next start', { versions: missingPublicKeys.join('; ') });
  }
  return { adminAs, process: thisProcess };
}

/**
 * Unfinished admin steps whose holder's lease has passed (issue 17, 25) are finished or rolled back before the service
 * serves; the others are taken over once their lease passes (main/service-jobs.ts, takeOverUnfinishedSteps).
 */
async function reconcileAtStart(admin: KeyAdmin, store: KeyStore, logger: Logger): Promise<void> {
  try {
    if ((await store.pendingIntents()).length === 0) return;
    const report = await admin.reconcile(false);
    for (const step of report.steps) logger.warn('unfinished admin step reconciled', { action: step.action, key: `${step.name}/${step.keyId}`, actor: step.actor, outcome: step.outcome });
  } catch (error) {
    logger.error('unfinished admin steps could not be reconciled at start; run "dke keys reconcile"', { error: error instanceof Error ? error.message : String(error) });
  }
}
