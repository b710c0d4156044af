import type { AllowList, DeletionSchedule, KeyRecord, KeyState, KeyVersion } from '../keys/key-version.js';
import type { Approval, KeyUsage } from '../keys/ports.js';

/** What the admin operations answer (the CLI prints them; `--json` prints them as they are). */
export interface VersionSummary {
  readonly name: string;
  readonly keyId: string;
  readonly state: KeyState;
  readonly enabled: boolean;
  /** Set when the change blocked the version Office clients may still hold in their key cache (contract §4). */
  readonly notice?: string;
}

export type CreatedVersion = VersionSummary;

export interface KeyView {
  readonly name: string;
  readonly allow: AllowList;
  readonly versions: (Pick<KeyVersion, 'keyId' | 'state' | 'enabled' | 'origin' | 'createdAt' | 'deletion'> & { published: boolean; lastUsedAt?: string })[];
  /** The rotation schedule, when one is set. */
  readonly rotation?: { readonly every: string };
}

export interface ImpactPreview {
  readonly name: string;
  readonly keyId: string;
  readonly from: KeyState;
  readonly to: KeyState;
  /** What the step does, in one sentence, and that it cannot be undone. */
  readonly effect: string;
  readonly windowDays: number;
  readonly usage: KeyUsage;
}

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
export function appliedView(outcome: Extract<StateChangeOutcome, { applied: true }>): Record<string, unknown> {
  return {
    applied: true,
    ...outcome.version,
    ...(outcome.decryptClearedInToken !== undefined ? { decryptClearedInToken: outcome.decryptClearedInToken } : {}),
    ...(outcome.objectsDestroyed !== undefined ? { objectsDestroyed: outcome.objectsDestroyed } : {}),
    ...(outcome.deletion !== undefined ? { deletion: outcome.deletion } : {}),
  };
}

/** `dke emergency … --json` and `/admin/api/emergency-block`: `{"blocked":true,"since","by"}` or `{"blocked":false}`. */
export type EmergencyBlockView = { readonly blocked: true; readonly since: string; readonly by: string } | { readonly blocked: false };

/** A proposal as `dke approvals list --json` and the admin API show it (contract §6). */
export type ApprovalView = Omit<Approval, 'requestedByPrincipal'>;

export function approvalView(approval: Approval, now: Date): ApprovalView {
  const { requestedByPrincipal: _principal, ...view } = approval;
  // A pending proposal past its expiry is shown as expired before anyone tries it.
  return view.status === 'pending' && Date.parse(view.expiresAt) <= now.getTime() ? { ...view, status: 'expired' } : view;
}

/** A step that waits for a second admin (DKE_APPROVALS_REQUIRED=2): the admin API answers 202 with it. */
export interface Proposed {
  readonly approval: ApprovalView;
}
