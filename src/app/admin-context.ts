import { allowListProblem } from '../keys/admin-inputs.js';
import { AdminConflict, AdminNotFound, AdminRefused } from '../keys/errors.js';
import { DEFAULT_VAULT, vaultForNewKey, type VaultNames } from '../keys/vaults.js';
import type { AllowList, KeyRecord, KeyVersion } from '../keys/key-version.js';
import { servedVersion } from '../keys/lifecycle.js';
import { seededPolicy, type AdminPolicy } from '../keys/admin-policy.js';
import type { Approval, AuditArchiver, AuditReader, AuditTrail, EmergencyBlock, KeyStateStore, KeyVault, KeyVersionRef } from '../keys/ports.js';
import { AdminAudit } from './admin-audit.js';
import { cachedPublicKeyNotice } from './cached-public-key-notice.js';

export interface KeyAdminDeps {
  readonly store: KeyStateStore;
  readonly vault: KeyVault;
  readonly audit: AuditTrail & AuditReader & AuditArchiver;
  /** Who runs the command: the OS user or DKE_ADMIN_ACTOR for the CLI, an admin identity otherwise. */
  readonly actor: string;
  /** `host:pid` of this process, written into its intents as their holder. */
  readonly owner?: string;
  /** How long an intent's lease lasts without renewal (default DEFAULT_INTENT_LEASE_MS in ./intent-lease.ts). */
  readonly intentLeaseMs?: number;
  /** Test seam (main/test-seams.ts): awaited after each step of an operation that touches the token. */
  readonly afterStep?: (step: string) => void | Promise<void>;
  /**
   * DKE_DELETION_WINDOW: seeds the stored policy's default deletion window when the store has no policy yet (contract
   * §10); the stored policy rules afterwards.
   */
  readonly deletionWindowMs?: number;
  /** DKE_APPROVALS_REQUIRED: seeds the stored policy's approvals, as deletionWindowMs. */
  readonly approvalsRequired?: 1 | 2;
  /** DKE_APPROVAL_TTL in ms: how long a proposal waits for its approval (default 24 h). */
  readonly approvalTtlMs?: number;
  /** Who the caller is for the two-person rule: the token's oid on the admin API, `os:USER@HOST` on the local CLI. */
  readonly principal?: string;
  /** The caller is an application, no person (an app-only token): it may propose but not approve (contract §10). */
  readonly appOnly?: boolean;
  readonly now?: () => Date;
  /**
   * What the service last learnt of a version's private key in the token (true there, false gone, undefined not
   * known): the DKE protocol's PrivateKeyPresence. Absent (the CLI): never known, so no status says "Not in the HSM".
   */
  readonly privateKeyPresent?: (ref: KeyVersionRef) => boolean | undefined;
  /** What the provenance guard judged of a version (false: refused as exportable); absent where nothing judges. */
  readonly servable?: (ref: KeyVersionRef) => boolean | undefined;
  /** The emergency block as the token records it (issue 25): shown even when a restored store lost it. Absent: the CLI. */
  readonly anchoredBlock?: () => EmergencyBlock | undefined;
  /** Told once this process set or lifted the emergency block: the service re-reads the token's record at once (issue 25). */
  readonly emergencyBlockChanged?: () => Promise<void>;
  /** The vaults this instance configures (contract §9); absent: the one vault `default`. */
  readonly vaults?: VaultNames;
  /** DKE_PUBLIC_KEY_CACHE_HOURS, for the notice given when the served version is blocked (default 24). */
  readonly publicKeyCacheHours?: number;
}

/**
 * What every family of key administration shares (key-admin.ts composes them): the dependencies, the clock, the
 * audit writer acting as the caller, and the look-ups and checks operations start with. One per KeyAdmin, so the
 * families of one KeyAdmin see the same approval in progress.
 */
export class AdminContext {
  readonly deps: KeyAdminDeps;
  readonly now: () => Date;
  readonly audit: AdminAudit;
  /** The approved proposal running now (key-approvals.ts): its step is not proposed again. */
  runningApproval: Approval | undefined;

  constructor(deps: KeyAdminDeps) {
    this.deps = deps;
    this.now = deps.now ?? (() => new Date());
    this.audit = new AdminAudit(deps.audit, deps.actor);
  }

  /** Who the caller is for the two-person rule. */
  get principal(): string {
    return this.deps.principal ?? this.deps.actor;
  }

  /** The admin policy in force: the store's (every instance sees a change within 1 s), the seed until it has one. */
  policy(): AdminPolicy {
    return this.deps.store.policy() ?? seededPolicy(this.deps);
  }

  /** Does a step wait for a second person (the stored policy's approvalsRequired 2, unless an approval runs it)? */
  needsApproval(): boolean {
    return this.policy().approvalsRequired === 2 && this.runningApproval === undefined;
  }

  /** The key name's record; AdminNotFound (404) without an audit entry when there is none. */
  async requireKey(name: string): Promise<KeyRecord> {
    const record = this.deps.store.findKey(name);
    if (record === undefined) throw new AdminNotFound(`There is no key named "${name}".`);
    return record;
  }

  /** The version a step acts on: a missing one is refused, and the refusal audited as `action`. */
  async requireVersion(action: string, name: string, keyId: string): Promise<KeyVersion> {
    const version = (await this.requireKey(name)).versions.find((v) => v.keyId === keyId);
    if (version === undefined) throw await this.audit.refusal(action, name, noVersionSentence(name, keyId), keyId, AdminNotFound);
    return version;
  }

  /** The version a read looks at: a missing one answers AdminNotFound (404) and writes nothing. */
  async readVersion(name: string, keyId: string): Promise<KeyVersion> {
    const version = (await this.requireKey(name)).versions.find((v) => v.keyId === keyId);
    if (version === undefined) throw new AdminNotFound(noVersionSentence(name, keyId));
    return version;
  }

  /**
   * Issues 18 and 26 (keys/admin-inputs.ts): a user entry is an object id or a member's UPN, a group entry an object
   * id, a role entry an app role value; the first that is not is refused (and audited as `action`).
   */
  async assertAllowEntries(action: string, name: string, allow: AllowList | undefined): Promise<void> {
    const problem = allowListProblem(allow);
    if (problem !== undefined) throw await this.audit.refusal(action, name, problem);
  }

  /** The vault a new version of `name` goes to: the named one or the default; an unknown or inactive one is refused (audited as `action`). */
  async vaultForNewKey(action: string, name: string, named: string | undefined): Promise<string> {
    try {
      return vaultForNewKey(this.deps.vaults ?? ONE_VAULT, named);
    } catch (error) {
      if (!(error instanceof AdminRefused)) throw error;
      throw await this.audit.refusal(action, name, error.message, undefined, error instanceof AdminConflict ? AdminConflict : AdminNotFound);
    }
  }

  /** Is this the version GET /{name} serves right now (published, Active, Enabled)? */
  isServed(name: string, keyId: string): boolean {
    const record = this.deps.store.findKey(name);
    return record !== undefined && servedVersion(record)?.keyId === keyId;
  }

  /** Contract §4: blocking the served version stops opening at once, not protecting; the answer says so. */
  cachedKeyNotice(blocksServed: boolean, name: string, keyId: string): { notice?: string } {
    const notice = blocksServed ? cachedPublicKeyNotice(name, keyId, this.deps.publicKeyCacheHours ?? 24) : undefined;
    return notice === undefined ? {} : { notice };
  }
}

const ONE_VAULT: VaultNames = { default: DEFAULT_VAULT, statuses: new Map([[DEFAULT_VAULT, 'active']]) };

export function noVersionSentence(name: string, keyId: string): string {
  return `The key "${name}" has no version ${keyId}.`;
}
