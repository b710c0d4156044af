import { seededPolicy, type PolicySeed } from '../keys/admin-policy.js';
import type { KeyStateStore } from '../keys/ports.js';
import { policyAuditFields } from './admin-policy-change.js';

/**
 * Gives a store its first admin policy (contract §10) from the configuration (DKE_APPROVALS_REQUIRED,
 * DKE_DELETION_WINDOW): run by `store init`, `db migrate`, every CLI command and the service at start, it writes only
 * when the store has none (a new store, or one just upgraded to schema 7); afterwards the configuration is not read
 * for the policy again. The first write is audited as `seed-policy`. True when this call wrote it.
 */
export async function ensureStoredPolicy(store: KeyStateStore, seed: PolicySeed, actor: string): Promise<boolean> {
  if (store.policy() !== undefined) return false;
  const policy = seededPolicy(seed);
  return store.change(async (tx) => {
    if (!(await tx.seedPolicy(policy))) return false;
    await tx.audit({ actor, action: 'seed-policy', outcome: 'succeeded', details: policyAuditFields(policy) });
    return true;
  });
}
