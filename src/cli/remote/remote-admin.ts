import { AdminRefused } from '../../app/admin-vocabulary.js';
import type { KeyAdmin } from '../../app/key-admin.js';
import { verifyAuditTrail, withAdmin, type AdminContext } from '../../main/open-admin.js';
import { adminCall } from './admin-client.js';
import { adminServer } from './admin-server.js';
import { REMOTE_VERBS } from './remote-verbs.js';

type Operation = (...args: unknown[]) => unknown;

/**
 * The key-admin service as the admin API at `server` provides it, acting as the signed-in operator: each operation of
 * REMOTE_VERBS becomes its route; any other is refused with a sentence (it runs on the service's host only).
 */
export function remoteKeyAdmin(server: string): KeyAdmin {
  const call = adminCall(server);
  const verbs = REMOTE_VERBS as Readonly<Record<string, ((call: ReturnType<typeof adminCall>, ...args: unknown[]) => unknown) | undefined>>;
  return new Proxy(Object.create(null) as object, {
    get: (_target, name): Operation => {
      const verb = typeof name === 'string' ? verbs[name] : undefined;
      if (verb === undefined) {
        return () => Promise.reject(new AdminRefused("This command has no admin API route: run it on the service's host, without --server (or DKE_ADMIN_URL)."));
      }
      return (...args: unknown[]) => verb(call, ...args);
    },
  }) as KeyAdmin;
}

/**
 * Where the admin verbs run their key-admin call (contract §10): through the admin API chosen with `--server` or
 * DKE_ADMIN_URL, with the operator's own token; else, as always, with the local store (and HSM) open.
 */
export function withAdminHere<T>(withHsm: Parameters<typeof withAdmin>[0], work: (context: Pick<AdminContext, 'admin'>) => Promise<T> | T, ...local: Parameters<typeof withAdmin> extends [unknown, unknown, ...infer Rest] ? Rest : never): Promise<T> {
  const server = adminServer();
  if (server === undefined) return withAdmin(withHsm, work, ...local);
  return Promise.resolve(work({ admin: remoteKeyAdmin(server) }));
}

/** `dke audit verify`: the chain as the service checks it (GET /admin/api/audit/verify), or checked here. */
export function verifyAuditTrailHere(archives: readonly string[]): ReturnType<typeof verifyAuditTrail> {
  const server = adminServer();
  if (server === undefined) return verifyAuditTrail(archives);
  return remoteKeyAdmin(server).verifyAudit(archives);
}
