import type { HsmConnection } from './hsm-connection.js';
import type { Handle, Pkcs11Module } from './pkcs11.js';

/**
 * CK_STATE values of a logged-in user session (PKCS#11 2.40 §5.6, Table 8); pkcs11js exports no CKS_ constants.
 * CKS_RO_PUBLIC_SESSION (0) and CKS_RW_PUBLIC_SESSION (2) mean nobody is logged in.
 */
const CKS_RO_USER_FUNCTIONS = 1;
const CKS_RW_USER_FUNCTIONS = 3;

/**
 * Asks the token (C_GetSessionInfo on a pooled session) whether the user is still logged in. A login holds for every
 * session of the application (PKCS#11 §5.6), so one session answers for all.
 */
export function isLoggedIn(connection: HsmConnection): Promise<boolean> {
  return connection.withSession(async (session) => isUserSession(connection.token.module, session));
}

/** Whether this session is in a user state (C_GetSessionInfo): the user is logged in, for this session at least. */
export function isUserSession(module: Pkcs11Module, session: Handle): boolean {
  const { state } = module.C_GetSessionInfo(session);
  return state === CKS_RO_USER_FUNCTIONS || state === CKS_RW_USER_FUNCTIONS;
}

/**
 * The readiness sentence for the HSM (issue 7), undefined when the connection is up and the token logged in. A token
 * logged out behind the service's back (HSM maintenance, an HA fail-over, another process calling C_Logout) is
 * reported rather than hidden until a decrypt happens to recover it, and a new login starts at once (issue 6's
 * recovery), so the next check passes when it succeeds.
 */
export async function hsmProblem(connection: HsmConnection): Promise<string | undefined> {
  const status = connection.status();
  if (status.state !== 'up') return `the HSM is ${status.state} since ${status.since}: ${status.detail ?? 'no detail'}`;
  if (await isLoggedIn(connection)) return undefined;
  void connection.recover('the token was logged out');
  return 'the token is not logged in (logged out outside the service); logging in again';
}
