/**
 * The bodies the admin API answers (contract §6), as the CLI's `--json` prints them and the console reads them:
 * written once, here. key-admin-views.ts builds them, the console (web/src/api.ts) imports them by relative path, and
 * test/http/vocabulary-drift.test.ts checks that live answers carry no field the OpenAPI document leaves out.
 *
 * Bundled into the browser like keys/vocabulary.ts: types only, from vocabulary.ts and admin-records.ts (nothing of
 * Node).
 */
import type { AllowList, ApprovalView, AuditEntry, AuditVerification, DeletionSchedule } from '../keys/admin-records.js';
import type { CheckStatus, EffectiveStatus, KeyOrigin, KeyState, ProvenanceVerdict } from '../keys/vocabulary.js';

// The domain's records that are shown as they are kept (keys/admin-records.ts), under the names the console reads.
export type { AllowList, ApprovalView, DeletionSchedule };
export type AuditEntryView = AuditEntry;

/** What a change to one version answers (create, rotate, enable, disable, cancel-deletion). */
export interface VersionSummary {
  readonly name: string;
  readonly keyId: string;
  readonly state: KeyState;
  readonly enabled: boolean;
  /** Set when the change blocked the version Office clients may still hold in their key cache (contract §4). */
  readonly notice?: string;
}

/** An applied state change or delete. */
export interface AppliedView extends VersionSummary {
  readonly applied: true;
  readonly decryptClearedInToken?: boolean;
  readonly objectsDestroyed?: boolean;
  /** A delete within the deletion window: when it was asked for and when the objects will be destroyed. */
  readonly deletion?: DeletionSchedule;
}

/** One version as a key's view lists it. */
export interface KeyVersionView {
  readonly keyId: string;
  readonly state: KeyState;
  readonly enabled: boolean;
  readonly published: boolean;
  readonly origin: KeyOrigin;
  /** The vault whose HSM holds the version's key pair (contract §9). */
  readonly vault: string;
  readonly createdAt: string;
  readonly deletion?: DeletionSchedule;
  /** The last successful decrypt, from the audit trail. */
  readonly lastUsedAt?: string;
  /** What the version does now, all things considered (keys/effective-status.ts): `serving` only while it decrypts. */
  readonly status: EffectiveStatus;
  /** When the status ends by itself: a pending deletion's destroyAt. */
  readonly statusUntil?: string;
}

/** Decrypt decisions of a key name over the last few days, from the audit trail (the key list's "at a glance"). */
export interface RecentDecrypts {
  readonly days: number;
  readonly allowed: number;
  readonly refused: number;
  /** Refused or failed decrypts by the error code they were answered with (access_denied, key_not_usable…). */
  readonly refusedByReason: Readonly<Record<string, number>>;
}

export interface KeyView {
  readonly name: string;
  readonly allow: AllowList;
  readonly versions: readonly KeyVersionView[];
  /** The rotation schedule, when one is set, with when the scheduler will next publish a new version. */
  readonly rotation?: { readonly every: string; readonly nextAt?: string };
  /** `serving` only while GET /{name} answers the published version's public key; otherwise why not. */
  readonly status: EffectiveStatus;
  readonly statusUntil?: string;
  /** In the key list only (`GET /admin/api/keys`, `dke keys list`): the key page draws the 30-day chart instead. */
  readonly recentDecrypts?: RecentDecrypts;
}

/** What a permanent step would break, before it is confirmed. */
export interface ImpactPreview {
  readonly name: string;
  readonly keyId: string;
  readonly from: KeyState;
  readonly to: KeyState;
  /** What the step does, in one sentence, and that it cannot be undone (or until when a delete can be cancelled). */
  readonly effect: string;
  /** A delete within the deletion window: when its objects would be destroyed were it applied now; cancellable until then. */
  readonly cancellableUntil?: string;
  readonly windowDays: number;
  readonly usage: { readonly decrypts: number; readonly distinctUsers: number; readonly lastUse?: string | undefined };
}

/**
 * The admin policy in the shape of contract §10 (`GET /admin/api/policy`, `dke policy show --json`), as the store keeps
 * it for every instance and path (keys/admin-policy.ts); the console names it in its confirmations. Spans as operators
 * write them (`7d`).
 */
export interface AdminPolicyView {
  /** 2: permanent steps, lifting the emergency block and weakening the policy wait for a second person. */
  readonly approvalsRequired: 1 | 2;
  /** The default deletion window (`0s`: a delete destroys at once) and the shortest one a delete may ask for. */
  readonly deletionWindow: { readonly default: string; readonly minimum: string };
  /** The shortest rotation period accepted; the scheduler never rotates more often. */
  readonly rotationMinimum: string;
  /** Whether an app-only token (no person) may approve a proposal. */
  readonly appOnlyMayApprove: boolean;
  /** The default deletion window in ms, for the console's dates. */
  readonly deletionWindowMs: number;
}

/** A step that waits for a second admin: the admin API answers 202 with it. */
export interface Proposed {
  readonly approval: ApprovalView;
}

/** `dke emergency … --json` and `/admin/api/emergency-block`: `{"blocked":true,"since","by"}` or `{"blocked":false}`. */
export type EmergencyBlockView = { readonly blocked: true; readonly since: string; readonly by: string } | { readonly blocked: false };

/** Decrypt decisions of one key name on one UTC day (the console's chart, decrypt-activity.ts counts them). */
export interface DecryptDay {
  /** YYYY-MM-DD (UTC). */
  readonly date: string;
  /** Decrypts that answered the plaintext key. */
  readonly allowed: number;
  /** Decrypts refused or failed (no permission, blocked version, HSM fault): nothing was opened. */
  readonly refused: number;
}

export interface DecryptActivity {
  readonly name: string;
  /** Oldest first. */
  readonly days: readonly DecryptDay[];
}

/** The part of a key's attestation the console shows: each version's verdict. */
export interface AttestationSummary {
  readonly name: string;
  readonly versions: readonly { readonly keyId: string; readonly verdict: ProvenanceVerdict }[];
}

/** The readiness checks of one instance (as /health/ready on the DKE port). */
export interface ReadinessView {
  readonly ready: boolean;
  readonly checks: Readonly<Record<string, { readonly status: CheckStatus; readonly checkedAt: string; readonly detail?: string }>>;
}

/** Whether every audit entry still chains to the one before: the domain's report as it is. */
export type AuditVerificationView = AuditVerification;
