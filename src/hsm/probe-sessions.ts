import { HsmConfigurationError } from '../keys/errors.js';
import type { ProbeCheck } from '../keys/vaults.js';
import { ckrName } from './ckr-classes.js';
import { isUserSession } from './login-state.js';
import { pkcs11, type Handle } from './pkcs11.js';
import type { Pkcs11Token } from './pkcs11-token.js';
import { attemptNow, failed, notTried, passed, warned } from './probe-checks.js';

/** How the probe opens sessions and logs in (see token-probe.ts for the two cases). */
export interface SessionPlan {
  /** The sessions to open at once: as many as the service holds (at least two, to see whether a login holds for all). */
  readonly sessions: number;
  /** Sessions the service holds on the token beside the probe's (its pool, probed through the admin API); absent when the probe has the module to itself. */
  readonly sessionsHeld?: number;
  /** Set when the service's own login failed (its PIN refused, or none to send): a refused PIN is never sent again (tokens lock after a few). */
  readonly loginRefused?: string;
}

export interface ProbeSessions {
  /** Every session the probe opened; the caller closes them. */
  readonly sessions: readonly Handle[];
  /** The logged-in session the object checks run on, or why there is none. */
  readonly work: Handle | string;
  readonly checks: readonly ProbeCheck[];
}

/** As the service does (HsmConnection): one session, the login on it, then the others at once. */
export function openProbeSessions(token: Pkcs11Token, plan: SessionPlan): ProbeSessions {
  const wanted = Math.max(plan.sessions, 2);
  const sessions: Handle[] = [];
  const first = openOne(token, sessions);
  if (first !== undefined) {
    const why = `no session could be opened (${first})`;
    return { sessions, work: why, checks: [failed('sessions', `No session could be opened (${first}); ask the vendor what the module needs to open one.`), notTried('login', why)] };
  }
  const loginFailure = attemptNow('login', () => logIn(token, sessions[0]!, plan));
  let stopped: string | undefined;
  while (stopped === undefined && sessions.length < wanted) stopped = openOne(token, sessions);
  const checks = [sessionsCheck(token, plan, sessions.length, stopped), loginFailure ?? attemptNow('login', () => loginSpreadCheck(token, sessions, plan))];
  return { sessions, work: loginFailure === undefined ? sessions[0]! : 'the login failed', checks };
}

/** Opens one more session; undefined when it opened, else why not. */
function openOne(token: Pkcs11Token, sessions: Handle[]): string | undefined {
  try {
    sessions.push(token.openSession());
    return undefined;
  } catch (error) {
    return ckrName(error);
  }
}

/** Logs in on the first session; a failed login check, or undefined when the session is logged in (or needs no login). */
function logIn(token: Pkcs11Token, session: Handle, plan: SessionPlan): ProbeCheck | undefined {
  if (plan.loginRefused !== undefined) {
    return failed('login', `The service's own login failed (${plan.loginRefused}), so the probe does not try it again; correct the configuration and restart the service.`);
  }
  const module = token.module;
  if (isUserSession(module, session)) return undefined;
  const { flags } = module.C_GetTokenInfo(token.slot);
  if ((flags & pkcs11.CKF_USER_PIN_LOCKED) !== 0) return failed('login', "The user PIN is locked (CKF_USER_PIN_LOCKED); the token's security officer must unlock or reset it.");
  if ((flags & pkcs11.CKF_USER_PIN_FINAL_TRY) !== 0) {
    return failed('login', "The token says one more wrong PIN locks the user (CKF_USER_PIN_FINAL_TRY), so the probe does not try; check the PIN with the vendor's tool first.");
  }
  if ((flags & pkcs11.CKF_LOGIN_REQUIRED) === 0) return undefined;
  try {
    token.login(session);
    return undefined;
  } catch (error) {
    return failed('login', error instanceof HsmConfigurationError ? error.message : `C_Login failed with ${ckrName(error)}; ask the vendor what the module expects at login.`);
  }
}

/** The service logs in once per connection and expects the login to hold for every session (PKCS#11 §5.6). */
function loginSpreadCheck(token: Pkcs11Token, sessions: readonly Handle[], plan: SessionPlan): ProbeCheck {
  const module = token.module;
  if (!isUserSession(module, sessions[0]!)) {
    return passed('login', 'The token needs no login (CKF_LOGIN_REQUIRED is not set), so the PIN is not used.');
  }
  const second = sessions[1];
  if (second === undefined) return warned('login', 'The user is logged in, but no second session opened to show whether the login holds for every session of the process.');
  if (!isUserSession(module, second)) {
    return failed(
      'login',
      'The user is logged in on one session only, while the service logs in once for all its sessions (PKCS#11 §5.6); ask the vendor whether a login can hold for every session of an application.',
    );
  }
  return plan.sessionsHeld !== undefined
    ? passed('login', "The service's login holds for new sessions too: one login per process (PKCS#11 §5.6), as the service expects.")
    : passed('login', 'The user PIN was accepted and the login holds for every session of the process (PKCS#11 §5.6), as the service expects.');
}

function sessionsCheck(token: Pkcs11Token, plan: SessionPlan, opened: number, stopped: string | undefined): ProbeCheck {
  const limit = sessionLimit(token.maxSessionCount);
  const why = stopped === undefined ? '' : ` (${stopped})`;
  if (plan.sessionsHeld !== undefined) {
    const held = `The service holds ${plan.sessionsHeld} sessions on this token and the probe opened ${opened} more${why}; the token states ${limit}`;
    return opened >= plan.sessions
      ? passed('sessions', `${held}.`)
      : warned('sessions', `${held}, so it is at its session limit; ask the vendor how to raise the partition's session limit.`);
  }
  if (opened >= plan.sessions) {
    return passed('sessions', `The token opened ${opened} sessions at once, as many as the service holds (DKE_PKCS11_SESSIONS, else one per libuv thread), and states ${limit}.`);
  }
  return failed(
    'sessions',
    `Only ${opened} of the ${plan.sessions} sessions the service holds opened${why}, so the service would not start; set DKE_PKCS11_SESSIONS to ${opened} or fewer, or ask the vendor how to raise the partition's session limit.`,
  );
}

/**
 * CK_TOKEN_INFO.ulMaxSessionCount: 0 is CK_EFFECTIVELY_INFINITE, all ones CK_UNAVAILABLE_INFORMATION (pkcs11js gives
 * 32 bits; openCryptoki answers all ones but one); anything that large is no limit a deployment could meet.
 */
function sessionLimit(max: number): string {
  if (max === 0) return 'no session limit';
  if (max >= 0x8000_0000) return 'no session limit it can tell';
  return `a limit of ${max} sessions`;
}
