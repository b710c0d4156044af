import type { DeletionSchedule, KeyRecord } from '../keys/key-version.js';
import type { Approval } from '../keys/ports.js';
import type { AppliedView, ApprovalView, EmergencyBlockView, ImpactPreview, KeyView, Proposed, VersionSummary } from './admin-shapes.js';

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

export function toView(record: KeyRecord, lastUses: ReadonlyMap<string, string> = new Map()): KeyView {
  return {
    name: record.name,
    allow: record.allow,
    ...(record.rotationEvery !== undefined ? { rotation: { every: record.rotationEvery } } : {}),
    versions: record.versions.map((v) => ({
      keyId: v.keyId,
      state: v.state,
      enabled: v.enabled,
      published: v.keyId === record.publishedKeyId,
      origin: v.origin,
      createdAt: v.createdAt,
      ...(v.deletion !== undefined ? { deletion: v.deletion } : {}),
      ...(lastUses.has(v.keyId) ? { lastUsedAt: lastUses.get(v.keyId)! } : {}),
    })),
  };
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
  const { requestedByPrincipal: _principal, ...view } = approval;
  // A pending proposal past its expiry is shown as expired before anyone tries it.
  return view.status === 'pending' && Date.parse(view.expiresAt) <= now.getTime() ? { ...view, status: 'expired' } : view;
}
