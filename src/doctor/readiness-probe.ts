import { jsonBody, probe } from './http-probe.js';

/**
 * What the service's own readiness (GET /health/ready beside the key URL) says of its HSM when a decrypt answered 503:
 * with several vaults (contract §9) it names the vault that does not answer, the one thing an operator needs next.
 * Undefined when the report cannot be read or says nothing of the HSM.
 */
export async function hsmReadiness(keyUrl: string): Promise<string | undefined> {
  try {
    const health = new URL('health/ready', new URL('.', keyUrl.replace(/\/+$/, '')));
    const checks = jsonBody(await probe(health.href))?.checks;
    const hsm = typeof checks === 'object' && checks !== null ? (checks as Record<string, { status?: unknown; detail?: unknown }>).hsm : undefined;
    return hsm !== undefined && hsm.status !== 'pass' && typeof hsm.detail === 'string' ? `${health.pathname} says of the HSM (${String(hsm.status)}): ${hsm.detail}` : undefined;
  } catch {
    return undefined;
  }
}

/** The fix of a check that met a 503 from the HSM: the readiness's words when it has them. */
export function hsmFix(readiness: string | undefined): string {
  return readiness === undefined ? 'Check /health/ready of the service: the HSM is not available.' : `The HSM is not available: ${readiness}.`;
}
