import type { Principal } from './access-policy.js';
import type { AdminPolicy } from './admin-policy.js';
import type { AllowList, DeletionSchedule, KeyOrigin, KeyRecord, KeyState, RsaPublicKey } from './key-version.js';
import type { ApprovalView, AuditEntry, AuditEvent, AuditVerification } from './admin-records.js';
import type { ApprovalOperation, ApprovalStatus, AuditKind, AuditOutcome } from './vocabulary.js';

export type { RsaPublicKey };

/** Which key version an HSM operation is about. */
export interface KeyVersionRef {
  readonly name: string;
  readonly keyId: string;
  /** The vault whose token holds it (contract §9); absent: the vault the store records for it, else the default vault. */
  readonly vault?: string;
}

/** PKCS#11 evidence about a private key, read from the token itself. `undefined`: the token would not say. */
export interface KeyEvidence {
  readonly sensitive: boolean | undefined;
  readonly alwaysSensitive: boolean | undefined;
  readonly extractable: boolean | undefined;
  readonly neverExtractable: boolean | undefined;
  readonly local: boolean | undefined;
  readonly modulusBits: number | undefined;
  readonly operations: readonly string[];
}

/** The HSM as the application sees it: keys by name and id, never handles. Implemented by `hsm/`. */
export interface KeyVault {
  generateKeyPair(ref: KeyVersionRef): Promise<RsaPublicKey>;
  /** Unwraps a PKCS#8 RSA private key into the token (sensitive, never extractable, decrypt only) with its public key. */
  importPrivateKey(ref: KeyVersionRef, pkcs8Der: Buffer, publicKey: RsaPublicKey): Promise<void>;
  publicKey(ref: KeyVersionRef): Promise<RsaPublicKey>;
  /** RSA-OAEP with SHA-256, MGF1-SHA-256 and an empty label, inside the token. */
  decrypt(ref: KeyVersionRef, ciphertext: Buffer): Promise<Buffer>;
  /** Removes the private and public objects of this version from the token. True when something was destroyed. */
  destroy(ref: KeyVersionRef): Promise<boolean>;
  attest(ref: KeyVersionRef): Promise<KeyEvidence>;
  /** Clears CKA_DECRYPT on the private key where the token allows it; false when it refused. */
  forbidDecrypt(ref: KeyVersionRef): Promise<boolean>;
  /** Is the private object of this version in the token now (asked of the token, not of a cache)? */
  hasPrivateKey(ref: KeyVersionRef): Promise<boolean>;
  /** Every key version the token holds an object of this service for (labelled `dke:<name>/<keyId>`). */
  listKeyObjects(): Promise<TokenKeyObject[]>;
  /**
   * Several vaults (contract §9): the objects of the vaults that answer now, and the names of those that do not, in
   * one pass (readiness compares only what it could list). Absent: one token, listKeyObjects answers for it.
   */
  listReachableKeyObjects?(): Promise<{ readonly objects: TokenKeyObject[]; readonly unreachable: readonly string[] }>;
  /** The vaults whose token does not answer now (their versions answer 503); absent: one token. */
  unreachableVaults?(): readonly string[];
  /**
   * Issue 25: records a permanent state (Deactivated, Compromised, Destroyed) on the token beside the key, in the token
   * step; it stays when the key objects go. False when the token keeps no records (`anchorProblem` says why).
   */
  anchorState(ref: KeyVersionRef, state: KeyState, at: string): Promise<boolean>;
  /** The permanent states the token records, the furthest per version. */
  anchoredStates(): Promise<AnchoredState[]>;
  /** Writes (a block) or removes (undefined) the emergency block's record on the token. */
  anchorEmergencyBlock(block: EmergencyBlock | undefined): Promise<boolean>;
  /** The emergency block as the token records it: one search by label, cheap enough to poll. */
  anchoredEmergencyBlock(): Promise<EmergencyBlock | undefined>;
  /** Records the audit head on the token when it is past the one recorded (only forward); true when it moved. */
  anchorAuditHead(head: AnchoredAuditHead): Promise<boolean>;
  anchoredAuditHead(): Promise<AnchoredAuditHead | undefined>;
  /** A sentence naming what is not anchored when the token refused records; undefined while they are kept. */
  anchorProblem(): string | undefined;
}

/** A permanent state as the token records it (issue 25). */
export interface AnchoredState {
  readonly ref: KeyVersionRef;
  readonly state: KeyState;
  readonly at: string;
}

/** The audit trail's head (sequence and hash) as the token records it, and when it was recorded. */
export interface AnchoredAuditHead {
  readonly seq: number;
  readonly hash: string;
  readonly at: string;
}

/** What the token holds of one key version. */
export interface TokenKeyObject {
  readonly ref: KeyVersionRef;
  readonly privateKey: boolean;
  readonly publicKey: boolean;
}

export interface NewKeyVersion {
  readonly name: string;
  readonly keyId: string;
  readonly state: KeyState;
  readonly origin: KeyOrigin;
  /** `if-new-name`: publish only when this version creates the key name (decided inside the transaction). */
  readonly publish: boolean | 'if-new-name';
  /** Granted on the key name, whether it is new or not (grants are never dropped). */
  readonly allow?: AllowList;
  readonly publicKey: RsaPublicKey;
  /** The vault whose token holds the key pair (contract §9); absent: `default`. */
  readonly vault?: string;
  /** Checked inside the write transaction: `new` for create, `existing` for rotate; absent: either (import). */
  readonly nameMustBe?: 'new' | 'existing';
}

/** What `addVersion` did: only `added` wrote anything. */
export type AddVersionResult = 'added' | 'name-exists' | 'name-missing' | 'version-exists';

/** What waits for a second admin under DKE_APPROVALS_REQUIRED=2 (contract §6): vocabulary.ts lists them. */
export type { ApprovalOperation, ApprovalStatus };

/** A proposal as the store keeps it: what everyone is shown (admin-records.ts) and whom the approver must differ from. */
export interface Approval extends ApprovalView {
  /** The identity the approver must differ from: the token's oid on the admin API, `os:USER@HOST` on the local CLI. */
  readonly requestedByPrincipal: string;
  /** The state the proposal was made against (issue 26): approving after it changed fails. Absent on older ones. */
  readonly boundTo?: ApprovalBinding;
  /** What the step does beyond its target: the policy a `set-policy` sets, the window a `delete` waits. */
  readonly proposed?: ProposedChange;
}

/** The rest of a proposed step (kept as JSON in the proposal's row). */
export type ProposedChange = { readonly policy: AdminPolicy } | { readonly windowMs: number };

/**
 * What a proposal names of the state it was made against: a version's state and the row's write counter (set-state,
 * delete), the emergency block's `since` (unblock), the policy in force (set-policy).
 */
export type ApprovalBinding =
  | { readonly version: VersionMarker }
  | { readonly blockSince: string }
  | { readonly policy: AdminPolicy };

/** A version's state and its row's write counter, read inside a transaction. */
export interface VersionMarker {
  readonly state: KeyState;
  readonly rowVersion: number;
}

/** The kill switch (contract §3 `dke emergency`): while set, no version of any key decrypts or is published. */
export interface EmergencyBlock {
  readonly since: string;
  /** The actor who set it, as the audit trail names them. */
  readonly by: string;
}

/**
 * One write transaction on the key-state store (SQLite or PostgreSQL): every change made through it commits together
 * with its audit entries and intents, or none does. Each change is conditional on the state it names (compare-and-set),
 * and `findKey` reads the committed state inside the transaction, so a precondition checked here cannot go stale
 * before the change commits. Only `tx` may be used inside the work: the store itself is not re-entered.
 */
export interface StoreTransaction {
  /** The key record as committed now, read inside this transaction (not the snapshot). */
  findKey(name: string): Promise<KeyRecord | undefined>;
  /** Adds a version (creating the key name when it is new, adding `allow`) and publishes it when asked. */
  addVersion(version: NewKeyVersion, at: string): Promise<AddVersionResult>;
  /** Writes a state only if it is still `expected`. False when it changed. */
  setState(name: string, keyId: string, expected: KeyState, next: KeyState, at: string): Promise<boolean>;
  /** False when the version is Destroyed (or gone) by the time the write runs. */
  setEnabled(name: string, keyId: string, enabled: boolean, at: string): Promise<boolean>;
  /** Schedules a version's destruction if it is still in `expected` state and not scheduled already; false otherwise. */
  scheduleDeletion(name: string, keyId: string, expected: KeyState, deletion: DeletionSchedule): Promise<boolean>;
  /** Clears a pending deletion (false when there was none, or the version is Destroyed already). */
  cancelDeletion(name: string, keyId: string): Promise<boolean>;
  /** After the destruction: the schedule is done (the version is Destroyed). */
  finishDeletion(name: string, keyId: string): Promise<void>;
  setPublished(name: string, keyId: string): Promise<void>;
  /** Keeps the public key of a version recorded before public keys were kept (read once from the token). */
  setPublicKey(name: string, keyId: string, publicKey: RsaPublicKey): Promise<void>;
  grant(name: string, kind: keyof AllowList, value: string): Promise<boolean>;
  revoke(name: string, kind: keyof AllowList, value: string): Promise<boolean>;
  /** Sets (a span such as `90d`) or clears (undefined) the rotation schedule of a key name; false when it was so already. */
  setRotation(name: string, every: string | undefined): Promise<boolean>;
  /** Sets (a block) or lifts (undefined) the kill switch, a lift only if it was set at `liftOnlySince` when given; false when nothing changed. */
  setEmergencyBlock(block: EmergencyBlock | undefined, liftOnlySince?: string): Promise<boolean>;
  /** The kill switch as committed now. */
  emergencyBlockNow(): Promise<EmergencyBlock | undefined>;
  /** A version's state and write counter as committed now. */
  versionMarker(name: string, keyId: string): Promise<VersionMarker | undefined>;
  /** The admin policy as committed now. */
  policyNow(): Promise<AdminPolicy | undefined>;
  /** Gives a store its first policy; false when it has one already (that one stays). */
  seedPolicy(policy: AdminPolicy): Promise<boolean>;
  /** Replaces the policy if it is still `expected` (compare-and-set); false when it changed meanwhile. */
  setPolicy(expected: AdminPolicy, next: AdminPolicy): Promise<boolean>;
  /** The id of a pending, unexpired proposal of the same step (operation, key, version, target), if there is one. */
  pendingApprovalLike(approval: Pick<Approval, 'operation' | 'keyName' | 'keyId' | 'state' | 'proposed'>, now: string): Promise<string | undefined>;
  addApproval(approval: Approval): Promise<void>;
  /** Moves a proposal out of `pending` (compare-and-set); false when it was decided meanwhile. */
  decideApproval(id: string, status: Exclude<ApprovalStatus, 'pending'>, by: string, at: string): Promise<boolean>;
  /** Appends an entry to the audit chain, committed with this transaction's changes. */
  audit(event: AuditEvent): Promise<void>;
  /** Writes an intent (issue 17) before its token step. */
  beginIntent(intent: NewIntent): Promise<Intent>;
  /** Ends an intent, with the step's outcome. */
  finishIntent(id: number): Promise<void>;
  /** Every intent not finished yet, oldest first, as committed now. */
  pendingIntents(): Promise<Intent[]>;
  /**
   * Takes an intent over from its holder (issue 25): true when its lease, as read (`from`), had passed at `now` and
   * nobody renewed or took it meanwhile; the intent is then `owner`'s until `until`.
   */
  takeOverIntent(from: Intent, owner: string, now: string, until: string): Promise<boolean>;
}

/**
 * The key-state store. It persists what the domain decides; it never decides a state itself. `findKey`, `listKeys` and
 * `emergencyBlock` are synchronous: they answer from an in-memory snapshot the store keeps current (a change committed
 * by any process applies within 1 s, on SQLite at the next request), so the decrypt and GET paths never wait for the
 * database. Snapshot records are immutable and replaced by new objects whenever the snapshot is re-read.
 */
export interface KeyLookup {
  readonly record: KeyRecord | undefined;
  readonly block: EmergencyBlock | undefined;
}

export interface KeyStateStore {
  /** The kill switch as last committed by any process. */
  emergencyBlock(): EmergencyBlock | undefined;
  /** The admin policy as last committed by any process (contract §10); undefined until the store has one. */
  policy(): AdminPolicy | undefined;
  findKey(name: string): KeyRecord | undefined;
  /**
   * The record of `name` and the kill switch, from one snapshot. Checked at this call by default, as every decrypt
   * needs; what is only published (GET /{keyName}) may take a snapshot checked up to `maxAgeMs` ago, so that a GET
   * does not touch the store (issue 19). This process's own changes are seen at once either way.
   */
  lookup(name: string, maxAgeMs?: number): KeyLookup;
  listKeys(): readonly KeyRecord[];
  /**
   * Runs `work` as one write transaction (see StoreTransaction) and returns its result; the snapshot of this process
   * is re-read before the promise settles, so the caller's next lookup sees its own change.
   */
  change<T>(work: (tx: StoreTransaction) => Promise<T>): Promise<T>;
  /** When each version of a key name last decrypted, read fresh (written with the decrypt audit batches). */
  lastUses(name: string): Promise<ReadonlyMap<string, string>>;
  /** Every proposal, oldest first. */
  listApprovals(): Promise<Approval[]>;
  /**
   * A lease on a background job across every process sharing the store: true when `owner` holds it until `until`,
   * because it was free, expired at `now`, already its own, or held by `takeOverFrom` (a process known to be dead).
   * Its own transaction, locking only the lease: it changes no key state, so no instance re-reads its snapshot.
   */
  claimJobLease(job: string, owner: string, now: string, until: string, takeOverFrom?: string): Promise<boolean>;
  /** Who holds a job's lease (whether or not it has expired), if anybody ever did. */
  jobLeaseHolder(job: string): Promise<string | undefined>;
  /** Every intent not finished yet, oldest first. */
  pendingIntents(): Promise<Intent[]>;
  /**
   * The holder of an intent extends its lease to `until` (issue 25); false when it no longer holds it (finished, or
   * taken over after the lease passed). Its own transaction: it changes no key state.
   */
  renewIntentLease(id: number, owner: string, until: string): Promise<boolean>;
  /** The database's clock (PostgreSQL's now()), to compare with this instance's; undefined where the store is a file. */
  databaseTime(): Promise<Date | undefined>;
}

export type { AuditEntry, AuditEvent, AuditOutcome };

/** Append-only, hash-chained record of admin actions and decrypt decisions. */
export interface AuditTrail {
  /** Writes one entry in its own transaction; settles once it is committed. */
  append(event: AuditEvent): Promise<void>;
}

/**
 * The decrypt path's trail: `record` settles only once the entry is durable, and rejects (StoreUnavailable) when it
 * cannot be written, so no decrypt is answered without its entry.
 */
export interface DurableAuditTrail {
  record(event: AuditEvent): Promise<void>;
}

/** How much a key version was used, from the audit trail: what a permanent step would break. */
export interface KeyUsage {
  readonly decrypts: number;
  readonly distinctUsers: number;
  readonly lastUse: string | undefined;
}

/** What `dke audit verify` reports (the console shows it too: admin-records.ts writes it). */
export type { AuditVerification };

/**
 * Which entries an investigation reads (vocabulary.ts AUDIT_FILTERS): every field given narrows the result; a list
 * matches any of its values. `actors` match by text contained in the actor, in any case; the others exactly.
 */
export interface AuditFilter {
  readonly actors?: readonly string[];
  readonly keyNames?: readonly string[];
  readonly actions?: readonly string[];
  readonly outcomes?: readonly AuditOutcome[];
  readonly kind?: AuditKind;
  /** At or after. */
  readonly since?: Date;
  /** Strictly before. */
  readonly until?: Date;
}

/** A filter, with the order and the window of entry numbers (seq) to read: the paging of a long trail. */
export interface AuditQuery extends AuditFilter {
  readonly order: 'newest-first' | 'oldest-first';
  /** Only entries numbered below this one (the next page, newest first). */
  readonly beforeSeq?: number;
  /** Only entries numbered above this one (the next batch, oldest first). */
  readonly afterSeq?: number;
  readonly limit?: number;
}

/** How many decrypt decisions of one key name since some instant ended one way, for one reason (an error code). */
export interface DecryptTally {
  readonly keyName: string;
  readonly outcome: AuditOutcome;
  /** `decrypted` when allowed; the error code answered otherwise (access_denied, key_not_usable, decrypt_failed…). */
  readonly reason: string;
  readonly count: number;
}

export interface AuditReader {
  /** Successful decrypts with this version since `since`. */
  decryptUsage(name: string, keyId: string, since: Date): Promise<KeyUsage>;
  /** Decrypt decisions since `since`, counted by key name, outcome and reason (one grouped read, not the entries). */
  decryptTallies(since: Date): Promise<DecryptTally[]>;
  /** Every entry, oldest first; only those at or after `since` when given. */
  list(since?: Date): Promise<AuditEntry[]>;
  /** The entries a query selects, filtered by the store itself (never a window read and narrowed afterwards). */
  find(query: AuditQuery): Promise<AuditEntry[]>;
  /** Checks the hash chain from its anchor to the head kept apart from the entries. */
  verify(): Promise<AuditVerification>;
  /** The head kept apart from the entries, and the hash of entry `seq` while it is stored (issue 25's anchored head). */
  headAndEntry(seq: number): Promise<{ readonly head: { readonly seq: number; readonly hash: string }; readonly entryHash: string | undefined }>;
}

/** Proves a bearer token and says who holds it. Implemented by `auth/`; the HTTP layer only calls it. */
export interface TokenVerifier {
  verify(token: string): Promise<Principal>;
}

/** Outcomes are error codes ('decrypted' / 'served' on success); a key name is given only when the key exists. */
export interface ProtocolObserver {
  decrypt(keyName: string | undefined, outcome: string, seconds: number): void;
  publicKey(keyName: string | undefined, outcome: string): void;
  /** Time in the key vault's decrypt (waiting for a session, then the token's C_DecryptInit and C_Decrypt). */
  hsmDecrypt(outcome: 'ok' | 'error', seconds: number): void;
}

/** Told of every HTTP request, for metrics. Route patterns (not paths) keep the label set small. */
export interface HttpObserver {
  httpRequest(route: string, status: number, seconds: number): void;
}

/** The metrics text a scraper reads at GET /metrics. */
export interface MetricsExposition {
  readonly contentType: string;
  render(): Promise<string>;
}

/**
 * How the service reacts to a PKCS#11 return value (issue 6):
 * - request: the ciphertext itself is bad; the caller gets the uniform 400.
 * - transient: the device or session went away; drop sessions, recover, answer 503 meanwhile.
 * - configuration: the operator must act (PIN, mechanism, key); never retried automatically.
 */
export type HsmErrorClass = 'request' | 'transient' | 'configuration' | 'unknown';

/** What the HSM session pool reports to metrics when scraped. */
export interface SessionPoolStats {
  readonly size: number;
  readonly inUse: number;
  readonly waiting: number;
}

/** Structured log lines. Callers pass fields only; never a token, PIN, ciphertext or plaintext. */
export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): unknown;
  info(message: string, fields?: Record<string, unknown>): unknown;
  warn(message: string, fields?: Record<string, unknown>): unknown;
  error(message: string, fields?: Record<string, unknown>): unknown;
}

/** Admin steps that touch the token, written down before the token is touched (issue 17). */
export type IntentAction = 'create' | 'rotate' | 'import' | 'set-state' | 'delete';

export interface NewIntent {
  readonly action: IntentAction;
  readonly name: string;
  readonly keyId: string;
  /** Who ran the step (for the reconcile's audit entry). */
  readonly actor: string;
  /** `host:pid` of the process holding the step (its lease): the one that began it, or the one that took it over. */
  readonly owner: string;
  readonly createdAt: string;
  /**
   * Until when the owner holds the step (issue 25): it renews this while the step runs; once it has passed, any
   * instance takes the intent over and finishes or rolls it back (app/intent-takeover.ts).
   */
  readonly leaseUntil: string;
  /** What finishing needs: the state moved from and to, the initial state of a new version. */
  readonly details?: Readonly<Record<string, string | number | boolean | null>>;
}

export interface Intent extends NewIntent {
  readonly id: number;
  readonly details: Readonly<Record<string, string | number | boolean | null>>;
}

/** One archive file made by audit retention (issue 17). */
export interface ArchiveResult {
  readonly file: string;
  readonly first: number;
  readonly last: number;
  readonly count: number;
  readonly lastHash: string;
  readonly sha256: string;
}

/** The verdict on one archive file: its own chain, its checkpoint in the store, its link to the archive before. */
export interface ArchiveCheck {
  readonly file: string;
  readonly ok: boolean;
  readonly first?: number;
  readonly last?: number;
  readonly problem?: string;
}

/** Moves old audit entries into archive files and proves such files later. Implemented by `store/`. */
export interface AuditArchiver {
  /** Archives the oldest entries written before `before` into `file`; undefined when none is that old. */
  archiveBefore(before: Date, file: string, actor: string): Promise<ArchiveResult | undefined>;
  checkArchives(files: readonly string[]): Promise<ArchiveCheck[]>;
}
