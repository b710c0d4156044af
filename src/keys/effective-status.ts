// Bundled into the browser like lifecycle.ts (the console labels the statuses the service computes): it imports only
// the vocabulary and the state table (with the facts it reads of a version and a key), nothing of Node.
import { servedVersion, STATE_RULES, type KeyFacts, type VersionFacts } from './lifecycle.js';
import type { EffectiveStatus, KeyState } from './vocabulary.js';

/** The status a state gives where the state alone decides (an Active version's depends on the rest). */
const STATE_STATUS: Readonly<Record<KeyState, EffectiveStatus>> = {
  'pre-active': 'pre-active',
  active: 'serving',
  deactivated: 'deactivated',
  compromised: 'compromised',
  destroyed: 'destroyed',
};

/** What the status reads beyond the record: the kill switch, and what the token last said about a private key. */
export interface ServiceFacts {
  readonly emergencyBlock: boolean;
  /** true: the token holds it; false: it is gone; undefined: not known (never asked, or asked by no one here). */
  readonly privateKeyPresent?: (keyId: string) => boolean | undefined;
  /** false: the token's evidence says the key could have left the HSM, so the service refuses it (app/provenance-guard.ts). */
  readonly servable?: (keyId: string) => boolean | undefined;
}

/** A status, with the instant it ends when it has one (a pending deletion's destroyAt). */
export interface StatusOf {
  readonly status: EffectiveStatus;
  readonly until?: string;
}

/**
 * One version's status, the first that applies: a permanent state (Destroyed, Compromised, Deactivated) says the
 * most; then a deletion waiting for its window, the Enabled flag off, Pre-Active, the emergency block, a private key
 * the token no longer holds, a key the provenance guard refuses; only what is left decrypts (`serving`).
 */
export function versionStatus(version: VersionFacts, facts: ServiceFacts): StatusOf {
  if (STATE_RULES[version.state].permanent) return { status: STATE_STATUS[version.state] };
  if (version.deletion !== undefined) return { status: 'pending-deletion', until: version.deletion.destroyAt };
  if (!version.enabled) return { status: 'blocked' };
  if (!STATE_RULES[version.state].decrypts) return { status: STATE_STATUS[version.state] };
  if (facts.emergencyBlock) return { status: 'emergency-block' };
  if (facts.privateKeyPresent?.(version.keyId) === false) return { status: 'not-in-hsm' };
  if (facts.servable?.(version.keyId) === false) return { status: 'exportable' };
  return { status: 'serving' };
}

/**
 * A key name's status: `serving` only while GET /{name} answers its public key (contract §1: the published version,
 * Active, Enabled, no deletion, no emergency block, its private key in the token); otherwise why not, from the
 * published version (`not-published` when there is none to blame).
 */
export function keyStatus<V extends VersionFacts>(record: KeyFacts<V>, facts: ServiceFacts): StatusOf {
  const published = record.versions.find((v) => v.keyId === record.publishedKeyId);
  if (published === undefined) return { status: 'not-published' };
  const status = versionStatus(published, facts);
  // versionStatus's `serving` is servedVersion's rule and more; the check keeps the two from ever disagreeing.
  return status.status === 'serving' && servedVersion(record) === undefined ? { status: 'not-published' } : status;
}

/** Each status as the console and the CLI write it. */
export const STATUS_LABELS: Readonly<Record<EffectiveStatus, string>> = {
  serving: 'Serving',
  'pre-active': 'Pre-Active',
  'not-published': 'Not published',
  'not-in-hsm': 'Not in the HSM',
  exportable: 'Refused: could have left the HSM',
  'emergency-block': 'Emergency block',
  blocked: 'Blocked (disabled)',
  'pending-deletion': 'Pending deletion',
  deactivated: 'Deactivated',
  compromised: 'Compromised',
  destroyed: 'Destroyed',
};

/** "Pending deletion until 2026-12-13 10:00 UTC"; `formatTime` lets the console write the instant in the reader's locale. */
export function statusLabel(status: StatusOf, formatTime: (at: string) => string = utcMinute): string {
  const label = STATUS_LABELS[status.status];
  return status.until === undefined ? label : `${label} until ${formatTime(status.until)}`;
}

function utcMinute(at: string): string {
  return `${at.slice(0, 10)} ${at.slice(11, 16)} UTC`;
}
