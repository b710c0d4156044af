import type { KeyAdmin } from '../app/key-admin.js';
import { policyChangeFrom } from '../app/admin-policy-change.js';

/** A route of this file, in the shape of admin-routes.ts's AdminRoute (which lists these), with only what they read. */
interface PolicyRoute {
  readonly method: 'get' | 'put';
  readonly path: string;
  readonly need: 'read' | 'change';
  handle(call: { readonly admin: KeyAdmin; readonly body: unknown }): Promise<{ status: number; body: unknown }> | { status: number; body: unknown };
}

/**
 * Contract §6 and §10 on the admin API: the stored admin policy, read by either role; a partial policy PUT by an
 * Admin applies at once when it makes nothing weaker (200) and is a `set-policy` proposal otherwise when the policy
 * in force requires two approvals (202 with the proposal).
 */
export const POLICY_ROUTES: readonly PolicyRoute[] = [
  { method: 'get', path: '/admin/api/policy', need: 'read', handle: ({ admin }) => ({ status: 200, body: admin.policy() }) },
  {
    method: 'put',
    path: '/admin/api/policy',
    need: 'change',
    handle: async ({ admin, body }) => {
      const outcome = await admin.setPolicy(policyChangeFrom(body));
      return { status: 'approval' in outcome ? 202 : 200, body: outcome };
    },
  },
];
