import type { KeyRecord, KeyState, KeyVersion } from './key-version.js';

interface StateRule {
  /** Label as NIST SP 800-57 writes it, for sentences shown to operators. */
  readonly label: string;
  /** May a version in this state decrypt (when Enabled)? */
  readonly decrypts: boolean;
  /** May a version in this state be published by GET (when Enabled)? */
  readonly publishable: boolean;
  /** States reachable from this one. 'destroyed' is reached only by delete. */
  readonly next: readonly KeyState[];
}

/**
 * Contract §4, the one place the key-state machine is written down. Stricter than NIST on purpose: a Deactivated
 * key never decrypts again (Securosys365 DKE does the same).
 */
export const STATE_RULES: Readonly<Record<KeyState, StateRule>> = {
  'pre-active': { label: 'Pre-Active', decrypts: false, publishable: false, next: ['active', 'compromised', 'destroyed'] },
  active: { label: 'Active', decrypts: true, publishable: true, next: ['deactivated', 'compromised', 'destroyed'] },
  deactivated: { label: 'Deactivated', decrypts: false, publishable: false, next: ['compromised'] },
  compromised: { label: 'Compromised', decrypts: false, publishable: false, next: [] },
  destroyed: { label: 'Destroyed', decrypts: false, publishable: false, next: [] },
};

/** Moves that can never be undone, so the CLI asks for `--yes` before making them. */
const PERMANENT_TARGETS: readonly KeyState[] = ['deactivated', 'compromised', 'destroyed'];

export function stateLabel(state: KeyState): string {
  return STATE_RULES[state].label;
}

/** Only an Enabled, Active version decrypts (contract §4). Enabled never revives any other state. */
export function canDecrypt(version: Pick<KeyVersion, 'state' | 'enabled'>): boolean {
  return version.enabled && STATE_RULES[version.state].decrypts;
}

export function isTransitionAllowed(from: KeyState, to: KeyState): boolean {
  return STATE_RULES[from].next.includes(to);
}

export function isPermanentTransition(to: KeyState): boolean {
  return PERMANENT_TARGETS.includes(to);
}

/** The sentence shown when a move is refused: it names the moves that are allowed. */
export function refusedTransitionSentence(from: KeyState, to: KeyState): string {
  const allowed = STATE_RULES[from].next;
  const options = allowed.length === 0 ? 'none, it is final' : allowed.map(stateLabel).join(', ');
  const refusal = from === to ? `The version is ${stateLabel(from)} already` : `A version in state ${stateLabel(from)} cannot become ${stateLabel(to)}`;
  return `${refusal}; allowed from ${stateLabel(from)}: ${options}.`;
}

/** The version GET /{keyName} serves: the published one, and only while it is Active and Enabled. */
export function servedVersion(record: KeyRecord): KeyVersion | undefined {
  const published = record.versions.find((v) => v.keyId === record.publishedKeyId);
  if (published === undefined || !published.enabled || !STATE_RULES[published.state].publishable) return undefined;
  return published;
}

/** A key id answers 404 once Destroyed: the HSM object is gone, only the record stays for audit. */
export function findLiveVersion(record: KeyRecord, keyId: string): KeyVersion | undefined {
  const version = record.versions.find((v) => v.keyId === keyId);
  return version === undefined || version.state === 'destroyed' ? undefined : version;
}
