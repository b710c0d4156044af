import { existsSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';
import { resolve } from 'node:path';
import { KeyAdmin, type KeyAdminDeps } from '../app/key-admin.js';
import { loadConfig, type Config } from '../config/config.js';
import type { OpenHsm } from '../hsm/open-hsm.js';
import { StoreUnavailable } from '../keys/errors.js';
import type { ArchiveCheck, AuditVerification, KeyVault } from '../keys/ports.js';
import { describeSqliteError, storePath } from '../store/database.js';
import { StoreAuditTrail } from '../store/audit-trail.js';
import { KeyStore } from '../store/key-store.js';
import { openConfiguredHsm } from './open-hsm.js';
import { databaseLocation, openConfiguredStore } from './open-store.js';

/** The key-admin service for one CLI command, on the store (and the token when asked), and how to close them. */
export interface AdminContext {
  readonly admin: KeyAdmin;
  close(): Promise<void>;
}

/** Who runs a CLI command, for the audit trail: DKE_ADMIN_ACTOR when set (an admin identity), else the OS user. */
export function adminActor(config: Pick<Config, 'adminActor'>): string {
  if (config.adminActor !== undefined) return config.adminActor;
  try {
    return `os:${userInfo().username}`;
  } catch {
    return 'os:unknown';
  }
}

/**
 * Opens the same store and HSM as the service, through the same code, for one CLI command. `withHsm: false` serves
 * commands that only read the store (list, show, audit), so they work while the token is unreachable.
 */
export async function openAdminContext(config: Config, withHsm: boolean, options: { readonly createStore?: boolean } = {}): Promise<AdminContext> {
  const embedded = config.databaseUrl === undefined;
  if (verboseCommands) process.stderr.write(`dke: key store ${embedded ? storePath(config.dataDir) : databaseLocation(config.databaseUrl!).sentence}\n`);
  const isNew = embedded && options.createStore === true && !existsSync(storePath(config.dataDir));
  // Only the commands that make a deployment (`store init`, `keys create`, `dev`, `db migrate`) create the store.
  const connection = await openConfiguredStore(config, { role: 'admin', create: options.createStore === true });
  // Issue 16: a store made as a side effect of a command is named, so a relative DKE_DATA_DIR cannot surprise anyone.
  if (isNew) process.stderr.write(`dke: created a new key store at ${storePath(config.dataDir)}\n`);
  let hsm: OpenHsm | undefined;
  try {
    hsm = withHsm ? openConfiguredHsm(config) : undefined;
  } catch (error) {
    await connection.close();
    throw error;
  }
  const store = new KeyStore(connection);
  const audit = new StoreAuditTrail(connection);
  const vault = hsm?.vault ?? unavailableVault();
  const admin = new KeyAdmin({
    store,
    vault,
    audit,
    actor: adminActor(config),
    publicKeyCacheHours: config.publicKeyCacheHours,
    deletionWindowMs: config.deletionWindowMs,
    approvalsRequired: config.approvalsRequired,
    approvalTtlMs: config.approvalTtlMs,
    ...processDeps(config),
  });
  return {
    admin,
    close: async () => {
      await hsm?.close();
      await connection.close();
    },
  };
}

let verboseCommands = false;

/** `dke --verbose`: every command names on stderr the store it uses (a relative DKE_DATA_DIR resolves per folder). */
export function setVerbose(on: boolean): void {
  verboseCommands = on;
}

export interface AdminOptions {
  /** Create the store when there is none (issue 17: only commands that make a deployment do). */
  readonly createStore?: boolean;
}

/** Runs one admin action with the store (and the HSM when needed) open, and always closes them. */
export async function withAdmin<T>(
  withHsm: boolean,
  work: (context: AdminContext) => Promise<T> | T,
  config: Config = loadConfig(),
  options: AdminOptions = {},
): Promise<T> {
  const context = await openAdminContext(config, withHsm, options);
  try {
    return await work(context);
  } finally {
    await context.close();
  }
}

function unavailableVault(): KeyVault {
  return new Proxy({} as KeyVault, {
    get: () => () => Promise.reject(new Error('This command does not open the HSM.')),
  });
}

export type AuditVerdict = (AuditVerification & { readonly archives?: readonly ArchiveCheck[] }) | { readonly ok: false; readonly problem: string; readonly brokenAt?: undefined };

/**
 * `dke audit verify`: the chain against its head; a store that exists but cannot even be read (corrupt pages)
 * proves nothing, so it is a broken trail too (exit 4), not a usage error. A missing store stays a refusal.
 */
export async function verifyAuditTrail(archives: readonly string[] = [], config: Config = loadConfig()): Promise<AuditVerdict> {
  const files = archives.map((file) => resolve(file));
  // A missing embedded store, or a database that cannot be reached, is a refusal (exit 2), not a broken chain.
  if (config.databaseUrl !== undefined || !existsSync(storePath(config.dataDir))) return withAdmin(false, ({ admin }) => admin.verifyAudit(files), config);
  try {
    return await withAdmin(false, ({ admin }) => admin.verifyAudit(files), config);
  } catch (error) {
    const detail = error instanceof StoreUnavailable ? error.detail : error instanceof Error ? describeSqliteError(error) : String(error);
    return { ok: false, problem: `the store cannot be read: ${detail}` };
  }
}

/** What the intents of this process need: this process as owner, the liveness test, the test fault point. */
export function processDeps(
  config: Pick<Config, 'faultKillAfter'>,
  options: { readonly ownStepsLive?: () => boolean } = {},
): Pick<KeyAdminDeps, 'owner' | 'isOwnerAlive' | 'afterStep'> & { readonly owner: string; readonly isOwnerAlive: (owner: string) => boolean } {
  const target = config.faultKillAfter;
  const owner = `${hostname()}:${process.pid}`;
  return {
    owner,
    // Before the service has reconciled at start, an intent under this process's own name was left by an earlier
    // process that had the same pid (a container's pid 1); after it, it is a step this very process has under way.
    isOwnerAlive: (of) => (of === owner && options.ownStepsLive?.() === true) || isOwnerAlive(of),
    // Tests only: the command dies exactly after this step, as a kill -9 would take it (issue 17's crash windows).
    ...(target !== undefined ? { afterStep: (step: string) => (step === target ? process.kill(process.pid, 'SIGKILL') : undefined) } : {}),
  };
}

/**
 * An intent's process is alive when it runs on this host and its pid answers signal 0 (and is not this process).
 * An intent written on another host is left alone (its process cannot be asked there): a reconcile on that host
 * finishes it.
 */
function isOwnerAlive(owner: string): boolean {
  const colon = owner.lastIndexOf(':');
  const host = owner.slice(0, colon);
  const pid = Number(owner.slice(colon + 1));
  if (host !== hostname()) return true;
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
