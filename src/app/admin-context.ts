import { allowListProblem } from '../keys/admin-inputs.js';
import { AdminConflict, AdminNotFound, AdminRefused } from '../keys/errors.js';
import { DEFAULT_VAULT, vaultForNewKey, type VaultNames } from '../keys/vaults.js';
import type { AllowList, KeyRecord, KeyVersion } from '../keys/key-version.js';
import { servedVersion } from '../keys/lifecycle.js';
import type { AuditArchiver, AuditReader, AuditTrail, KeyStateStore, KeyVault, KeyVersionRef } from '../keys/ports.js';
import { AdminAudit } from './admin-audit.js';
import { cachedPublicKeyNotice } from './cached-public-key-notice.js';

export interface KeyAdminDeps {
  readonly store: KeyStateStore;
  readonly vault: KeyVault;
  readonly audit: AuditTrail & AuditReader & AuditArchiver;
  /** Who runs the command: the OS user or DKE_ADMIN_ACTOR for the CLI, an admin identity otherwise. */
  readonly actor: string;
  /** `host:pid` of this process, written into its intents. */
  readonly owner?: string;
  /** Is the process that wrote an intent still running (then its intent is not a reconcile's business)? */
  readonly isOwnerAlive?: (owner: string) => boolean;
  /** Test seam (main/test-seams.ts): called after each step of an operation that touches the token. */
  readonly afterStep?: (step: string) => void;
  /** DKE_DELETION_WINDOW: how long a deleted version waits before its HSM objects are destroyed (0 or absent: at once). */
  readonly deletionWindowMs?: number;
  /** DKE_APPROVALS_REQUIRED: 2 makes irreversible steps and lifting the kill switch proposals for a second admin. */
  readonly approvalsRequired?: 1 | 2;
  /** DKE_APPROVAL_TTL in ms: how long a proposal waits for its approval (default 24 h). */
  readonly approvalTtlMs?: number;
  /** Who the caller is for the two-person rule: the token's oid on the admin API; absent: the actor (CLI). */
  readonly principal?: string;
  readonly now?: () => Date;
  /**
   * What the service last learnt of a version's private key in the token (true there, false gone, undefined not
   * known): the DKE protocol's PrivateKeyPresence. Absent (the CLI): never known, so no status says "Not in the HSM".
   */
  readonly privateKeyPresent?: (ref: KeyVersionRef) => boolean | undefined;
  /** What the provenance guard judged of a version (false: refused as exportable); absent where nothing judges. */
  readonly servable?: (ref: KeyVersionRef) => boolean | undefined;
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
  /** True while an approved proposal runs (key-approvals.ts): its step is not proposed again. */
  executingApproval = false;

  constructor(deps: KeyAdminDeps) {
    this.deps = deps;
    this.now = deps.now ?? (() => new Date());
    this.audit = new AdminAudit(deps.audit, deps.actor);
  }

  /** Who the caller is for the two-person rule. */
  get principal(): string {
    return this.deps.principal ?? this.deps.actor;
  }

  /** Does an irreversible step wait for a second admin (DKE_APPROVALS_REQUIRED=2, unless an approval runs it)? */
  needsApproval(): boolean {
    return this.deps.approvalsRequired === 2 && !this.executingApproval;
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

function noVersionSentence(name: string, keyId: string): string {
  return `The key "${name}" has no version ${keyId}.`;
}
