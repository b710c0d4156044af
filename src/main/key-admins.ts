import { KeyAdmin, type KeyAdminDeps } from '../app/key-admin.js';
import type { Config } from '../config/config.js';
import type { AdminProcess } from './admin-process.js';

/** The settings every KeyAdmin takes from the configuration. */
export type KeyAdminConfig = Pick<Config, 'publicKeyCacheHours' | 'deletionWindowMs' | 'approvalsRequired' | 'approvalTtlMs'>;

/**
 * What a KeyAdmin works on: the store, the token (or a stand-in that refuses), the audit trail; in the service, what
 * the DKE protocol last learnt of each published version's private key.
 */
export type KeyAdminParts = Pick<KeyAdminDeps, 'store' | 'vault' | 'vaults' | 'audit' | 'privateKeyPresent' | 'servable' | 'emergencyBlockChanged' | 'anchoredBlock'>;

/** Who a KeyAdmin acts for in the two-person rule: its principal, and whether it is an application (app-only token). */
export interface KeyAdminCaller {
  readonly principal?: string;
  readonly appOnly?: boolean;
}

/** Builds the KeyAdmin of one actor (the admin API and the CLI add the caller's principal for the two-person rule). */
export type KeyAdminFactory = (actor: string, caller?: KeyAdminCaller | string) => KeyAdmin;

/**
 * The one place a KeyAdmin is built, for the service (its own reconcile and the scheduler), the admin API's callers
 * and every CLI command: the same parts, the same settings, the same process as owner of its intents.
 */
export function keyAdmins(config: KeyAdminConfig, parts: KeyAdminParts, adminProcess: AdminProcess): KeyAdminFactory {
  return (actor, given) => {
    const caller = typeof given === 'string' ? { principal: given } : (given ?? {});
    return new KeyAdmin({
      ...parts,
      actor,
      ...(caller.principal !== undefined ? { principal: caller.principal } : {}),
      ...(caller.appOnly === true ? { appOnly: true } : {}),
      publicKeyCacheHours: config.publicKeyCacheHours,
      deletionWindowMs: config.deletionWindowMs,
      approvalsRequired: config.approvalsRequired,
      approvalTtlMs: config.approvalTtlMs,
      owner: adminProcess.owner,
      ...(adminProcess.afterStep !== undefined ? { afterStep: adminProcess.afterStep } : {}),
      ...(adminProcess.intentLeaseMs !== undefined ? { intentLeaseMs: adminProcess.intentLeaseMs } : {}),
    });
  };
}
