import type { StoreAuditTrail } from './audit-trail.js';
import type { StoreConnection } from './store-connection.js';

/** The settings that pick and open a store (the configuration's own fields; config/ is not imported here). */
export interface StoreSettings {
  readonly dataDir: string;
  readonly databaseUrl?: string | undefined;
  /** DKE_STATE_STALENESS_SECONDS in ms: how long lookups answer from a key state a shared store could not confirm. */
  readonly stateStalenessMs: number;
}

export interface OpenStoreRequest {
  /** `service`: never waits for a lock on an embedded store (the audit writer retries on its timer); `admin`: one CLI command. */
  readonly role: 'admin' | 'service';
  /**
   * Create the store when there is none. Only explicit commands do (`dke store init`, `keys create`, `dev`,
   * `db migrate`): a service that created an empty store where a volume failed to mount would answer "no such key"
   * for every key while the token still holds them all.
   */
  readonly create?: boolean;
  /** The service: a database unreachable at start is tried again in the background (readiness fails meanwhile). */
  readonly waitForDatabase?: boolean;
  /** Told when a shared database stops or starts answering (the service logs it and rechecks readiness). */
  readonly onReachability?: (reachable: boolean, detail: string) => void;
}

/** How the service's audit trail group-commits decrypt decisions, and whom it tells when writing fails and recovers. */
export interface ServiceAuditOptions {
  readonly intervalMs: number;
  readonly waitLimitMs: number;
  readonly onFailing?: (reason: string) => void;
  readonly onRecovered?: (since: string, reason: string) => void;
}

export interface ServiceStoreOptions {
  readonly groupCommit: ServiceAuditOptions;
  /** Told when a shared database stops or starts answering. */
  readonly onReachability?: (reachable: boolean, detail: string) => void;
  /** Told when decrypt entries start going to a local journal (the database refused a write), with the journal's path. */
  readonly onJournaling?: (reason: string, journal: string) => void;
  /** Told when the local journal has been drained into the trail, with how many entries it held. */
  readonly onDrained?: (entries: number) => void;
  /**
   * DKE_OUTAGE_MODE (contract §2): `journal` answers decrypts while the database is unreachable and keeps their entries
   * in the local journal; `refuse` answers them 503 and writes no journal. Default `journal`.
   */
  readonly outageMode?: OutageMode;
}

export type OutageMode = 'journal' | 'refuse';

/** The local outage journal of a database store: its folder and how many entries in it have not reached the trail. */
export interface OutageJournalState {
  readonly directory: string;
  readonly undrained: number;
  /** The lock of a process that was gone (or whose pid was reused), taken over at open. */
  readonly staleLock?: { readonly pid: number; readonly startedAt?: string; readonly host?: string };
}

/** The readiness of a store: a sentence when it fails, a warning when it degrades, undefined when it is fine. */
export type StoreReadiness = string | { readonly warning: string } | undefined;

/** The store as the service holds it: the connection, the audit trail as this engine writes it, and its readiness. */
export interface ServiceStore {
  readonly connection: StoreConnection;
  readonly audit: StoreAuditTrail;
  /** Can the service answer from this store now (readiness's store check)? */
  readiness(): Promise<StoreReadiness>;
  /** The local outage journal, for a store in a shared database (none for the embedded store). */
  readonly outageJournal?: () => OutageJournalState;
  /** Writes the audit entries still waiting, stops what runs in the background and closes the connection. */
  close(): Promise<void>;
}

export interface BackupResult {
  readonly file: string;
  readonly auditHead: { readonly seq: number; readonly hash: string };
}

export interface RestoreResult {
  readonly backupHead: { readonly seq: number; readonly hash: string };
  /** The head of the store that was replaced, when it could be read. */
  readonly replacedHead?: { readonly seq: number; readonly hash: string };
  /** Audit entries written after the backup that were carried into the restored store. */
  readonly entriesCarried: number;
  readonly changesReapplied: number;
  readonly changesSkipped: number;
}

/**
 * Everything that differs between the store's engines, before and around an open connection (what differs inside one
 * is its EngineDialect): which settings name a store of this engine, how to name it, open it for a command or for
 * the service, back it up and restore it. One object per engine, in its own folder; store/engines.ts lists them.
 */
export interface StoreEngine {
  /** Do these settings name a store of this engine? The list asks each engine in turn. */
  handles(settings: StoreSettings): boolean;
  /** How sentences name the store of these settings, without opening it (never a password). */
  where(settings: StoreSettings): string;
  /** There is no store there yet: opening it with `create` makes a new one (the CLI says so). */
  isMissing(settings: StoreSettings): boolean;
  /**
   * Is a store that cannot be read damaged (a file that exists here, whose broken pages break its trail) rather than
   * away (a database that may answer again: a refusal)? `dke audit verify` tells the two apart.
   */
  readFailureIsDamage(settings: StoreSettings): boolean;
  /** The engine's error in words, for a sentence. */
  describeError(error: unknown): string;
  /** Opens the store for one CLI command (or a test), migrating its schema when it is older than this code. */
  open(settings: StoreSettings, request: OpenStoreRequest): Promise<StoreConnection>;
  /** Opens the store for the service: never creates it, watches it and writes its audit trail as this engine must. */
  openForService(settings: StoreSettings, options: ServiceStoreOptions): Promise<ServiceStore>;
  /** `dke store backup FILE`: a consistent copy while the service runs, or a refusal naming the engine's own tools. */
  backup(settings: StoreSettings, file: string, actor: string): Promise<BackupResult>;
  /** `dke store restore FILE [--force]`: replaces the store with a backup, or a refusal naming the engine's own tools. */
  restore(settings: StoreSettings, file: string, options: { readonly force: boolean; readonly actor: string }): Promise<RestoreResult>;
}
