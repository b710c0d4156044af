import { seededPolicy, type PolicySeed } from '../keys/admin-policy.js';
import type { KeyStateStore } from '../keys/ports.js';

/**
 * Gives a store its first admin policy (contract §10) from the configuration (DKE_APPROVALS_REQUIRED,
 * DKE_DELETION_WINDOW): run by `store init`, `db migrate`, every CLI command and the service at start, it writes only
 * when the store has none (a new store, or one just upgraded to schema 7); afterwards the configuration is not read
 * for the policy again. True when this call wrote it. No audit entry: `dke db migrate` must leave a new database
 * without entries for `dke db copy` (store-copy.ts), and every later change is audited as `set-policy`.
 */
export async function ensureStoredPolicy(store: KeyStateStore, seed: PolicySeed): Promise<boolean> {
  if (store.policy() !== undefined) return false;
  const policy = seededPolicy(seed);
  return store.change((tx) => tx.seedPolicy(policy));
}
