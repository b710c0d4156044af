import type { VaultDirectory } from '../keys/vaults.js';

/** A route of this file, in the shape of admin-routes.ts's AdminRoute (which lists these), with only what they read. */
interface VaultRoute {
  readonly method: 'get' | 'post';
  readonly path: string;
  readonly need: 'read';
  handle(call: { readonly vaults: VaultDirectory; readonly params: Readonly<Record<string, string>> }): Promise<{ status: number; body: unknown }> | { status: number; body: unknown };
}

/**
 * Contract §9 on the admin API: the vaults this instance reaches, and the probe of one (a temporary key made and
 * destroyed in its token). Both are reads (DKE.Auditor): the probe changes nothing the service keeps.
 */
export const VAULT_ROUTES: readonly VaultRoute[] = [
  { method: 'get', path: '/admin/api/vaults', need: 'read', handle: ({ vaults }) => ({ status: 200, body: vaults.list() }) },
  { method: 'post', path: '/admin/api/vaults/{name}/probe', need: 'read', handle: async ({ vaults, params }) => ({ status: 200, body: await vaults.probe(params.name!) }) },
];
