/**
 * The domain's records that the admin front ends show exactly as they are kept: an allow list, a deletion schedule, a
 * proposal, an audit entry and a verification of the audit chain. Written here, apart from ports.ts and
 * key-version.ts, because the console bundles them (through app/admin-shapes.ts): types only, nothing of Node.
 */
import type { ApprovalOperation, ApprovalStatus, AuditOutcome, KeyState } from './vocabulary.js';

/** Who may decrypt with a key name; its keys are GRANT_KINDS. */
export interface AllowList {
  /** User principal names or e-mail addresses, lower case. */
  readonly users: readonly string[];
  /** Entra group object ids, lower case. */
  readonly groups: readonly string[];
  /** App role values, as written in the app registration (case-sensitive, as Entra issues them). */
  readonly roles: readonly string[];
}

/**
 * Set while a delete waits for its window (contract §4): the version neither decrypts nor is published meanwhile,
 * `cancel-deletion` clears it, and at `destroyAt` the scheduler destroys the HSM objects and records Destroyed.
 */
export interface DeletionSchedule {
  readonly requestedAt: string;
  readonly destroyAt: string;
}

/** A proposal as `dke approvals list --json` and the admin API show it (ports.ts: the store keeps more). */
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

/** One audited decision or admin step, as it is written. */
export interface AuditEvent {
  /** Who: an OS user or admin identity for admin actions, `oid (upn)` for decrypts. */
  readonly actor: string;
  readonly action: string;
  readonly keyName?: string;
  readonly keyId?: string;
  readonly outcome: AuditOutcome;
  readonly reason?: string;
  /** Further facts (tenant, from/to state). Never a token, PIN, ciphertext or plaintext. */
  readonly details?: Readonly<Record<string, string | number | boolean | null>>;
}

export interface AuditEntry extends AuditEvent {
  readonly seq: number;
  readonly at: string;
  readonly prevHash: string;
  readonly hash: string;
}

/** What `dke audit verify` and the admin API report: whether every audit entry still chains to the one before. */
export interface AuditVerification {
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
