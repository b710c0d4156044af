import { keyStatus, versionStatus, type ServiceFacts, type StatusOf } from '../keys/effective-status.js';
import type { DeletionSchedule, KeyRecord } from '../keys/key-version.js';
import type { Approval } from '../keys/ports.js';
import type { AppliedView, ApprovalView, EmergencyBlockView, ImpactPreview, KeyView, Proposed, RecentDecrypts, VersionSummary } from './admin-shapes.js';
import { nextRotationAt } from './key-rotation-schedule.js';

// What the admin operations answer (the CLI prints them; `--json` prints them as they are): admin-shapes.ts writes
// them once, for the admin API's OpenAPI document and the console as well.
export type { ApprovalView, EmergencyBlockView, ImpactPreview, KeyView, Proposed, VersionSummary };

export type CreatedVersion = VersionSummary;

export type StateChangeOutcome =
  | {
      readonly applied: true;
      readonly version: VersionSummary;
      readonly decryptClearedInToken?: boolean;
      readonly objectsDestroyed?: boolean;
      /** A delete within the deletion window: when it was asked for and when the objects will be destroyed. */
      readonly deletion?: DeletionSchedule;
    }
  | { readonly applied: false; readonly preview: ImpactPreview }
  | { readonly applied: false; readonly approval: ApprovalView };

/** What a key's view adds to its record: each version's last use, the service's facts, the recent decrypts. */
export interface ViewFacts {
  readonly lastUses?: ReadonlyMap<string, string>;
  readonly service: ServiceFacts;
  readonly recentDecrypts?: RecentDecrypts;
  /** The stored policy's rotation minimum: a shorter schedule runs at it (contract §10). */
  readonly rotationMinimumMs?: number;
}

export function toView(record: KeyRecord, facts: ViewFacts): KeyView {
  const lastUses = facts.lastUses ?? new Map<string, string>();
  const nextAt = nextRotationAt(record, facts.rotationMinimumMs);
  return {
    name: record.name,
    ...statusFields(keyStatus(record, facts.service)),
    allow: record.allow,
    ...(record.rotationEvery !== undefined ? { rotation: { every: record.rotationEvery, ...(nextAt !== undefined ? { nextAt } : {}) } } : {}),
    ...(facts.recentDecrypts !== undefined ? { recentDecrypts: facts.recentDecrypts } : {}),
    versions: record.versions.map((v) => ({
      keyId: v.keyId,
      state: v.state,
      enabled: v.enabled,
      ...statusFields(versionStatus(v, facts.service)),
      published: v.keyId === record.publishedKeyId,
      origin: v.origin,
      vault: v.vault,
      createdAt: v.createdAt,
      ...(v.deletion !== undefined ? { deletion: v.deletion } : {}),
      ...(lastUses.has(v.keyId) ? { lastUsedAt: lastUses.get(v.keyId)! } : {}),
    })),
  };
}

function statusFields(status: StatusOf): { status: StatusOf['status']; statusUntil?: string } {
  return status.until === undefined ? { status: status.status } : { status: status.status, statusUntil: status.until };
}

/** What an applied state change or delete answers, in the CLI's `--json` and the admin API alike. */
export function appliedView(outcome: Extract<StateChangeOutcome, { applied: true }>): AppliedView {
  return {
    applied: true,
    ...outcome.version,
    ...(outcome.decryptClearedInToken !== undefined ? { decryptClearedInToken: outcome.decryptClearedInToken } : {}),
    ...(outcome.objectsDestroyed !== undefined ? { objectsDestroyed: outcome.objectsDestroyed } : {}),
    ...(outcome.deletion !== undefined ? { deletion: outcome.deletion } : {}),
  };
}


export function approvalView(approval: Approval, now: Date): ApprovalView {
  const { requestedByPrincipal: _principal, boundTo: _boundTo, proposed: _proposed, ...view } = approval;
  // A pending proposal past its expiry is shown as expired before anyone tries it.
  return view.status === 'pending' && Date.parse(view.expiresAt) <= now.getTime() ? { ...view, status: 'expired' } : view;
}
