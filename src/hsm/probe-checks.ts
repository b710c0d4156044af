import { randomBytes } from 'node:crypto';
import type { ProbeCheck } from '../keys/vaults.js';
import { ckrName } from './ckr-classes.js';

/** The checks of `dke hsm probe` (contract §9), in the order the report lists them. */
export const PROBE_CHECK_NAMES = [
  'module',
  'token',
  'rsa-key-pair-gen',
  'rsa-oaep',
  'production-template',
  'oaep-sha256-decrypt',
  'attribute-change',
  'data-objects',
  'key-destroy',
  'sessions',
  'login',
] as const;
export type ProbeCheckName = (typeof PROBE_CHECK_NAMES)[number];

export const passed = (name: ProbeCheckName, detail: string): ProbeCheck => ({ name, status: 'pass', detail });
export const warned = (name: ProbeCheckName, detail: string): ProbeCheck => ({ name, status: 'warn', detail });
export const failed = (name: ProbeCheckName, detail: string): ProbeCheck => ({ name, status: 'fail', detail });

/** A check that could not run proves nothing, so it counts as failed; the sentence says what stopped it. */
export const notTried = (name: ProbeCheckName, why: string): ProbeCheck => failed(name, `Not tried: ${why}.`);

/** Runs one check; a failure it did not expect fails that check with the token's return value, never the probe. */
export async function attempt(name: ProbeCheckName, check: () => Promise<ProbeCheck>): Promise<ProbeCheck> {
  try {
    return await check();
  } catch (error) {
    return unexpected(name, error);
  }
}

/** attempt, for a check that makes only synchronous PKCS#11 calls. */
export function attemptNow<T extends ProbeCheck | undefined>(name: ProbeCheckName, check: () => T): T | ProbeCheck {
  try {
    return check();
  } catch (error) {
    return unexpected(name, error);
  }
}

function unexpected(name: ProbeCheckName, error: unknown): ProbeCheck {
  return failed(name, `The check stopped on ${ckrName(error)}; ask the vendor what the module means by it here.`);
}

/** The checks made on objects in the token, which need a logged-in session. */
export const TOKEN_OBJECT_CHECKS = ['production-template', 'oaep-sha256-decrypt', 'attribute-change', 'data-objects', 'key-destroy'] as const satisfies readonly ProbeCheckName[];

/** The checks in report order, each once. */
export function inReportOrder(checks: readonly ProbeCheck[]): ProbeCheck[] {
  const rank = (check: ProbeCheck): number => PROBE_CHECK_NAMES.indexOf(check.name as ProbeCheckName);
  return [...checks].sort((a, b) => rank(a) - rank(b));
}

/**
 * What the probe's objects are labelled: never `dke:` (LABEL_PREFIX in rsa-key-templates.ts), so no key version, no
 * reconcile and no readiness comparison ever takes one for a key of the service, and a leftover is easy to spot.
 */
export const PROBE_LABEL_PREFIX = 'dke-probe:';

export function probeLabel(): string {
  return `${PROBE_LABEL_PREFIX}${randomBytes(8).toString('hex')}`;
}
