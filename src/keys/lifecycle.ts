// Only vocabulary.ts and admin-records.ts: the console bundles this table (web/src/vocabulary.ts), so it names no
// KeyRecord or KeyVersion (key-version.ts carries Node's Buffer); the rules below read the fields they need,
// structurally.
import type { DeletionSchedule } from './admin-records.js';
import { KEY_STATES, type KeyState } from './vocabulary.js';

/** What the rules read of a version (a KeyVersion, or the admin API's view of one); effective-status.ts reads it too. */
export interface VersionFacts {
  readonly keyId: string;
  readonly state: KeyState;
  readonly enabled: boolean;
  readonly deletion?: DeletionSchedule | undefined;
}

/** What the rules read of a key name (a KeyRecord). */
export interface KeyFacts<V extends VersionFacts> {
  readonly publishedKeyId: string | undefined;
  readonly versions: readonly V[];
}

interface StateRule {
  /** Label as NIST SP 800-57 writes it, for sentences shown to operators. */
  readonly label: string;
  /** May a version in this state decrypt (when Enabled)? */
  readonly decrypts: boolean;
  /** May a version in this state be published by GET (when Enabled)? */
  readonly publishable: boolean;
  /** States reachable from this one. 'destroyed' is reached only by delete. */
  readonly next: readonly KeyState[];
  /** May a new version start in this state (create; an import is Active)? */
  readonly initial: boolean;
  /** Can never be undone, so the CLI asks for `--yes` before a move into this state. */
  readonly permanent: boolean;
  /** Does the token still hold the version's objects? A Destroyed version's are gone; only its record stays. */
  readonly inToken: boolean;
  /** Entering this state clears CKA_DECRYPT in the token where it allows (the state alone blocks decrypts anyway). */
  readonly clearsDecryptInToken: boolean;
  /** Reached by `delete` (which destroys the objects), not by `set-state`. */
  readonly reachedByDelete: boolean;
  /** For permanent states: what entering it does, as the impact preview tells an operator before `--yes`. */
  readonly entryEffect?: string;
}

/**
 * Contract §4, the one place the key-state machine is written down. Stricter than NIST on purpose: a Deactivated
 * key never decrypts again (Securosys365 DKE does the same).
 */
export const STATE_RULES: Readonly<Record<KeyState, StateRule>> = {
  'pre-active': {
    initial: true,
    label: 'Pre-Active',
    decrypts: false,
    publishable: false,
    next: ['active', 'compromised', 'destroyed'],
    permanent: false,
    inToken: true,
    clearsDecryptInToken: false,
    reachedByDelete: false,
  },
  active: {
    initial: true,
    label: 'Active',
    decrypts: true,
    publishable: true,
    next: ['deactivated', 'compromised', 'destroyed'],
    permanent: false,
    inToken: true,
    clearsDecryptInToken: false,
    reachedByDelete: false,
  },
  deactivated: {
    initial: false,
    label: 'Deactivated',
    decrypts: false,
    publishable: false,
    next: ['compromised'],
    permanent: true,
    inToken: true,
    clearsDecryptInToken: true,
    reachedByDelete: false,
    entryEffect: 'stops this version from ever decrypting again: documents protected with it can no longer be opened',
  },
  compromised: {
    initial: false,
    label: 'Compromised',
    decrypts: false,
    publishable: false,
    next: [],
    permanent: true,
    inToken: true,
    clearsDecryptInToken: true,
    reachedByDelete: false,
    entryEffect: 'marks this version Compromised: it never decrypts again and cannot leave that state',
  },
  destroyed: {
    initial: false,
    label: 'Destroyed',
    decrypts: false,
    publishable: false,
    next: [],
    permanent: true,
    inToken: false,
    clearsDecryptInToken: false,
    reachedByDelete: true,
    entryEffect: 'destroys the private key in the HSM: every document protected with this version can never be opened again',
  },
};

export function stateLabel(state: KeyState): string {
  return STATE_RULES[state].label;
}

/**
 * Only an Enabled, Active version decrypts (contract §4), and not while its deletion is scheduled. Enabled never
 * revives any other state.
 */
export function canDecrypt(version: Omit<VersionFacts, 'keyId'>): boolean {
  return version.enabled && STATE_RULES[version.state].decrypts && version.deletion === undefined;
}

export function isTransitionAllowed(from: KeyState, to: KeyState): boolean {
  return STATE_RULES[from].next.includes(to);
}

export function isPermanentTransition(to: KeyState): boolean {
  return STATE_RULES[to].permanent;
}

/** The impact preview's sentence for a permanent move: from, to, what it does, and that it cannot be undone. */
export function permanentEffectSentence(from: KeyState, to: KeyState): string {
  return `${stateLabel(from)} → ${stateLabel(to)} ${STATE_RULES[to].entryEffect ?? 'changes the state'}. This cannot be undone.`;
}

/**
 * The impact preview's sentence for a delete that waits for its deletion window (contract §4): nothing is destroyed
 * before `destroyAt`, and until then `cancel-deletion` gives the version back exactly as it was.
 */
export function scheduledDeletionSentence(from: KeyState, destroyAt: string): string {
  return `${stateLabel(from)} → ${stateLabel(DELETED_STATE)}: the version stops decrypting and being published at once, and the delete is cancellable until ${destroyAt}, when its private key is destroyed in the HSM.`;
}

/** Is this the state `delete` moves a version into? */
export function isDeletion(to: KeyState): boolean {
  return STATE_RULES[to].reachedByDelete;
}

/** The states `set-state` can name (every state but the one `delete` reaches), in the table's order. */
export const SETTABLE_STATES: readonly KeyState[] = KEY_STATES.filter((state) => !STATE_RULES[state].reachedByDelete);

/** The states a new version may start in. */
export const INITIAL_STATES: readonly KeyState[] = KEY_STATES.filter((state) => STATE_RULES[state].initial);

/** A new version starts Active unless asked otherwise; an imported one always does. */
export const DEFAULT_INITIAL_STATE: KeyState = 'active';

/** "a, b, c or d", for sentences that list states (or any other words of the vocabulary). */
export function stateList(states: readonly string[]): string {
  return states.length <= 1 ? states.join('') : `${states.slice(0, -1).join(', ')} or ${states.at(-1)}`;
}

/** The states a permanent step leads to: the only ones the impact preview answers for. */
export const PERMANENT_STATES: readonly KeyState[] = KEY_STATES.filter((state) => STATE_RULES[state].permanent);

/**
 * How far along its road a state is, for what the token records (issue 25): 0 for the states a version can leave
 * again, then Deactivated, Compromised, Destroyed. A store whose version is at a lower rank than the token's record
 * was restored from before the permanent step.
 */
export function permanenceRank(state: KeyState): number {
  return STATE_RULES[state].permanent ? (state === 'deactivated' ? 1 : state === 'compromised' ? 2 : 3) : 0;
}

/** The state `delete` moves a version into. */
export const DELETED_STATE: KeyState = 'destroyed';

/** Does the token still hold this version's objects (false once Destroyed)? */
export function hasObjectsInToken(state: KeyState): boolean {
  return STATE_RULES[state].inToken;
}

/** Should entering this state clear CKA_DECRYPT in the token too? */
export function clearsDecryptInToken(state: KeyState): boolean {
  return STATE_RULES[state].clearsDecryptInToken;
}

/** May the reversible Enabled flag be changed in this state? Not once the objects are gone. */
export function canToggleEnabled(state: KeyState): boolean {
  return STATE_RULES[state].inToken;
}

/** The sentence shown when a move is refused: it names the moves that are allowed. */
export function refusedTransitionSentence(from: KeyState, to: KeyState): string {
  const allowed = STATE_RULES[from].next;
  const options = allowed.length === 0 ? 'none, it is final' : allowed.map(stateLabel).join(', ');
  const refusal = from === to ? `The version is ${stateLabel(from)} already` : `A version in state ${stateLabel(from)} cannot become ${stateLabel(to)}`;
  return `${refusal}; allowed from ${stateLabel(from)}: ${options}.`;
}

/** The version GET /{keyName} serves: the published one, and only while it is Active and Enabled. */
export function servedVersion<V extends VersionFacts>(record: KeyFacts<V>): V | undefined {
  const published = record.versions.find((v) => v.keyId === record.publishedKeyId);
  if (published === undefined || !published.enabled || !STATE_RULES[published.state].publishable || published.deletion !== undefined) return undefined;
  return published;
}

/** A key id answers 404 once Destroyed: the HSM object is gone, only the record stays for audit. */
export function findLiveVersion<V extends VersionFacts>(record: KeyFacts<V>, keyId: string): V | undefined {
  const version = record.versions.find((v) => v.keyId === keyId);
  return version === undefined || !hasObjectsInToken(version.state) ? undefined : version;
}
