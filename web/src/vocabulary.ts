/**
 * The service's words as the console uses them, imported from the service's own source, never copied: the key-state
 * table (src/keys/lifecycle.ts), the lists (src/keys/vocabulary.ts) and the admin API's bodies
 * (src/app/admin-shapes.ts).
 * The console adds one word of its own per state, the tone of its badge, in a table over every state: a state added
 * to the service fails `tsc -p web/tsconfig.json` here until it has one, and test/http/vocabulary-drift.test.ts
 * checks that style.css colours each tone.
 *
 * Written with `.js` specifiers and no DOM, so the drift test (compiled for Node) imports this very file.
 */
import { canToggleEnabled, DELETED_STATE, hasObjectsInToken, isDeletion, isPermanentTransition, STATE_RULES, stateLabel } from '../../src/keys/lifecycle.js';
import type { CheckStatus, EffectiveStatus, KeyState, VaultStatus } from '../../src/keys/vocabulary.js';

export { canToggleEnabled, DELETED_STATE, hasObjectsInToken, isDeletion, isPermanentTransition, stateLabel };
export { statusLabel, type StatusOf } from '../../src/keys/effective-status.js';
export type { ApprovalOperation, ApprovalStatus, AuditExportFormat, AuditFilterName, AuditKind, CheckStatus, EffectiveStatus, GrantField, GrantKind, KeyState } from '../../src/keys/vocabulary.js';
export { AUDIT_EXPORT_FORMATS, AUDIT_FILTERS, AUDIT_OUTCOMES, GRANT_FIELDS } from '../../src/keys/vocabulary.js';
export type {
  ApprovalView,
  AttestationSummary,
  AuditEntryView,
  AuditVerificationView,
  DecryptActivity,
  DecryptDay,
  EmergencyBlockView,
  AdminPolicyView,
  ImpactPreview,
  KeyVersionView,
  KeyView,
  Proposed,
  ReadinessView,
  RecentDecrypts,
  VersionSummary,
} from '../../src/app/admin-shapes.js';
export type { VaultList, VaultView } from '../../src/keys/vaults.js';

/** Each vault status's badge (contract §9): an inactive vault, which takes no new keys, is worth a look. */
export const VAULT_STATUS_BADGES: Readonly<Record<VaultStatus, CheckStatus>> = { active: 'pass', inactive: 'warn' };

/** The colours of the console's badges (style.css `.tone-*`). */
export const BADGE_TONES = ['good', 'caution', 'muted', 'bad'] as const;
export type BadgeTone = (typeof BADGE_TONES)[number];

/** Each state's badge: green where it decrypts, amber before, grey when retired, red when it cannot come back. */
export const STATE_TONES: Readonly<Record<KeyState, BadgeTone>> = {
  'pre-active': 'caution',
  active: 'good',
  deactivated: 'muted',
  compromised: 'bad',
  destroyed: 'bad',
};

/**
 * Each effective status's badge: green only while it serves, amber for what waits (Pre-Active, a deletion in its
 * window, nothing published), grey for a reversible block, red for what stops every decrypt or cannot come back.
 */
export const STATUS_TONES: Readonly<Record<EffectiveStatus, BadgeTone>> = {
  serving: 'good',
  'pre-active': 'caution',
  'not-published': 'caution',
  'pending-deletion': 'caution',
  blocked: 'muted',
  deactivated: 'muted',
  'not-in-hsm': 'bad',
  exportable: 'bad',
  'emergency-block': 'bad',
  compromised: 'bad',
  destroyed: 'bad',
};

/** Does GET /{name} answer this key's public key now (so its label URL is worth copying)? */
export function isServed(key: { readonly status: EffectiveStatus }): boolean {
  return key.status === 'serving';
}

/** The states `Set state` offers from this one: the table's moves, but for the one `delete` makes. */
export function settableFrom(state: KeyState): readonly KeyState[] {
  return STATE_RULES[state].next.filter((to) => !isDeletion(to));
}

/** Does the table let `delete` move a version out of this state? */
export function deletableIn(state: KeyState): boolean {
  return STATE_RULES[state].next.some(isDeletion);
}
