import { HsmConfigurationError } from '../keys/errors.js';
import { probeReport, type ProbeCheck, type ProbeReport } from '../keys/vaults.js';
import { ckrName } from './ckr-classes.js';
import type { HsmConnection } from './hsm-connection.js';
import { poolSize } from './open-hsm.js';
import type { Pkcs11Config } from './pkcs11-settings.js';
import { Pkcs11Token } from './pkcs11-token.js';
import { dataObjectCheck } from './probe-data-object.js';
import { attemptNow, failed, inReportOrder, notTried, PROBE_CHECK_NAMES, TOKEN_OBJECT_CHECKS } from './probe-checks.js';
import { moduleCheck, tokenCheck } from './probe-identity.js';
import { mechanismChecks } from './probe-mechanisms.js';
import { openProbeSessions, type SessionPlan } from './probe-sessions.js';
import { temporaryKeyChecks, type EncryptAsOffice } from './probe-temporary-key.js';

export type { EncryptAsOffice };

/**
 * `dke hsm probe` with a module of its own (contract §9): loads the module in this process, finds the token, runs
 * every check with as many sessions as the service would hold, and finalises the module. Never throws for what the
 * token does: every failure is a check of the report.
 */
export async function probeModule(config: Pkcs11Config, encrypt: EncryptAsOffice): Promise<ProbeReport> {
  const token = new Pkcs11Token(config);
  try {
    token.open();
  } catch (error) {
    return unopened(error instanceof HsmConfigurationError ? error.message : `The module could not be opened: ${ckrName(error)}.`);
  }
  try {
    return await probeToken(token, { sessions: poolSize(config, token) }, encrypt);
  } finally {
    token.close();
  }
}

/**
 * The probe on the service's own token (the admin API): its sessions are the probe's own, beside the service's pool,
 * which it leaves alone; no logout, no reset. A PIN the token refused the service is not sent again.
 */
export async function probeConnectedToken(connection: HsmConnection, encrypt: EncryptAsOffice): Promise<ProbeReport> {
  const status = connection.status();
  if (!connection.token.isOpen) return unopened(`The service's connection to the HSM is ${status.state}: ${status.detail ?? 'no detail'}.`);
  const plan: SessionPlan = {
    sessions: 2,
    sessionsHeld: connection.pool.size,
    ...(status.state === 'misconfigured' ? { loginRefused: status.detail ?? 'no detail' } : {}),
  };
  // Beside the pool, not in it: a recovery waits for the probe before it closes sessions (its handles would be void).
  return connection.besidePool(() => probeToken(connection.token, plan, encrypt));
}

async function probeToken(token: Pkcs11Token, plan: SessionPlan, encrypt: EncryptAsOffice): Promise<ProbeReport> {
  const module = token.module;
  const facts = [moduleCheck(module), tokenCheck(module, token.slot), ...mechanismChecks(module, token.slot)];
  const opened = openProbeSessions(token, plan);
  try {
    const work = opened.work;
    const objects =
      typeof work === 'string'
        ? TOKEN_OBJECT_CHECKS.map((name) => notTried(name, work))
        : [...(await temporaryKeyChecks(module, work, encrypt)), attemptNow('data-objects', () => dataObjectCheck(module, work))];
    return probeReport(inReportOrder([...facts, ...objects, ...opened.checks]));
  } finally {
    for (const session of opened.sessions) token.closeSession(session);
  }
}

/** The module or its token would not open: that sentence, and every other check not tried. */
function unopened(sentence: string): ProbeReport {
  const why = 'the module or its token could not be opened';
  const checks: ProbeCheck[] = PROBE_CHECK_NAMES.map((name) => (name === 'module' ? failed(name, sentence) : notTried(name, why)));
  return probeReport(checks);
}
