/**
 * The bodies the admin API answers (contract §6), as the CLI's `--json` prints them and the console reads them:
 * written once, here. key-admin-views.ts builds them, the console (web/src/api.ts) imports them by relative path, and
 * test/http/vocabulary-drift.test.ts checks that live answers carry no field the OpenAPI document leaves out.
 *
 * Bundled into the browser like keys/vocabulary.ts: types only, from vocabulary.ts alone (nothing of Node).
 */
import type {
  AllowList,
  ApprovalOperation,
  ApprovalStatus,
  AuditOutcome,
  CheckStatus,
  DeletionSchedule,
  KeyOrigin,
  KeyState,
  ProvenanceVerdict,
} from '../keys/vocabulary.js';

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
  readonly createdAt: string;
  readonly deletion?: DeletionSchedule;
  /** The last successful decrypt, from the audit trail. */
  readonly lastUsedAt?: string;
}

export interface KeyView {
  readonly name: string;
  readonly allow: AllowList;
  readonly versions: readonly KeyVersionView[];
  /** The rotation schedule, when one is set. */
  readonly rotation?: { readonly every: string };
}

/** What a permanent step would break, before it is confirmed. */
export interface ImpactPreview {
  readonly name: string;
  readonly keyId: string;
  readonly from: KeyState;
  readonly to: KeyState;
  /** What the step does, in one sentence, and that it cannot be undone. */
  readonly effect: string;
  readonly windowDays: number;
  readonly usage: { readonly decrypts: number; readonly distinctUsers: number; readonly lastUse?: string | undefined };
}

/** A proposal of the two-person rule (DKE_APPROVALS_REQUIRED=2). */
export interface ApprovalView {
  readonly id: string;
  readonly operation: ApprovalOperation;
  readonly keyName?: string;
  readonly keyId?: string;
  /** The target state of a set-state proposal. */
  readonly state?: KeyState;
  /** The proposer as the audit trail names them. */
  readonly requestedBy: string;
  readonly requestedAt: string;
  readonly expiresAt: string;
  readonly status: ApprovalStatus;
  readonly decidedBy?: string;
  readonly decidedAt?: string;
}

/** A step that waits for a second admin: the admin API answers 202 with it. */
export interface Proposed {
  readonly approval: ApprovalView;
}

/** `dke emergency … --json` and `/admin/api/emergency-block`: `{"blocked":true,"since","by"}` or `{"blocked":false}`. */
export type EmergencyBlockView = { readonly blocked: true; readonly since: string; readonly by: string } | { readonly blocked: false };

/** One entry of the hash-chained audit trail. */
export interface AuditEntryView {
  readonly seq: number;
  readonly at: string;
  readonly actor: string;
  readonly action: string;
  readonly keyName?: string;
  readonly keyId?: string;
  readonly outcome: AuditOutcome;
  readonly reason?: string;
  readonly details?: Readonly<Record<string, string | number | boolean | null>>;
  readonly prevHash: string;
  readonly hash: string;
}

/** Decrypt decisions of one key name on one UTC day (the console's chart). */
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

/** Whether every audit entry still chains to the one before. */
export interface AuditVerificationView {
  readonly ok: boolean;
  readonly entries: number;
  /** The last entry as the head (kept apart from the entries) records it. */
  readonly head: { readonly seq: number; readonly hash: string };
  /** The last entry moved to an archive; the first stored entry links to it (seq 0: nothing archived). */
  readonly anchor: { readonly seq: number; readonly hash: string };
  /** The first entry whose hash or link does not match, when not ok. */
  readonly brokenAt?: number;
  readonly problem?: string;
}
