import { hostname, userInfo } from 'node:os';
import { resolve } from 'node:path';
import type { KeyAdmin } from '../app/key-admin.js';
import { loadConfig, type Config } from '../config/config.js';
import { vaultNames, vaultsOf } from '../config/vaults-file.js';
import { StoreUnavailable } from '../keys/errors.js';
import type { ArchiveCheck, AuditVerification, KeyVault } from '../keys/ports.js';
import { ensureStoredPolicy } from '../app/stored-policy.js';
import { StoreAuditTrail } from '../store/audit-trail.js';
import { KeyStore } from '../store/key-store.js';
import { adminProcess } from './admin-process.js';
import { keyAdmins } from './key-admins.js';
import { openVaults, type OpenVaults } from './open-vaults.js';
import { configuredEngine } from './open-store.js';

/** The key-admin service for one CLI command, on the store (and the token when asked), and how to close them. */
export interface AdminContext {
  readonly admin: KeyAdmin;
  close(): Promise<void>;
}

/** Who runs a CLI command, for the audit trail: DKE_ADMIN_ACTOR when set (an admin identity), else the principal. */
export function adminActor(config: Pick<Config, 'adminActor'>): string {
  return config.adminActor ?? cliPrincipal();
}

/**
 * Who the local CLI is for the two-person rule (contract §10): `os:USER@HOST`, from the operating system, never from
 * the environment (DKE_ADMIN_ACTOR only names the caller in the trail), so one shell user cannot be two admins.
 */
export function cliPrincipal(): string {
  let user: string;
  try {
    user = userInfo().username;
  } catch {
    // No passwd entry for this uid (a container's arbitrary uid): the uid stands for the user.
    user = `uid${process.getuid?.() ?? ''}`;
  }
  return `os:${user}@${hostname()}`;
}

/** Whether a command opens the token: `if-reachable` for those that use its records (issue 25) but work without it. */
export type WithHsm = boolean | 'if-reachable';

/**
 * Opens the same store and HSM as the service, through the same code, for one CLI command. `withHsm: false` serves
 * commands that only read the store (list, show, audit), so they work while the token is unreachable; `if-reachable`
 * those that also keep or read the token's records (the emergency block, `audit verify`) but must not fail without it.
 */

export async function openAdminContext(config: Config, withHsm: WithHsm, options: { readonly createStore?: boolean } = {}): Promise<AdminContext> {
  const engine = configuredEngine(config);
  if (verboseCommands) process.stderr.write(`dke: key store ${engine.where(config)}\n`);
  const isNew = options.createStore === true && engine.isMissing(config);
  // Only the commands that make a deployment (`store init`, `keys create`, `dev`, `db migrate`) create the store.
  const connection = await engine.open(config, { role: 'admin', create: options.createStore === true });
  // Issue 16: a store made as a side effect of a command is named, so a relative DKE_DATA_DIR cannot surprise anyone.
  if (isNew) process.stderr.write(`dke: created a new key store at ${engine.where(config)}\n`);
  let hsm: OpenVaults | undefined;
  try {
    hsm = withHsm !== false ? openVaults(config) : undefined;
  } catch (error) {
    if (withHsm !== 'if-reachable') {
      await connection.close();
      throw error;
    }
  }
  const store = new KeyStore(connection);
  // An intent names a version without its vault (the reconcile): the store's record says where it is.
  hsm?.router.lookUpVaultsIn(store);
  const parts = { store, vault: hsm?.router ?? unavailableVault(), vaults: vaultNames(vaultsOf(config)), audit: new StoreAuditTrail(connection) };
  try {
    await ensureStoredPolicy(parts.store, config);
  } catch (error) {
    await hsm?.close();
    await connection.close();
    throw error;
  }
  return {
    admin: keyAdmins(config, parts, adminProcess())(adminActor(config), { principal: cliPrincipal() }),
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
  withHsm: WithHsm,
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
  const engine = configuredEngine(config);
  // A missing embedded store, or a database that cannot be reached, is a refusal (exit 2), not a broken chain.
  // Issue 25: the token's anchored head is compared too, when the token can be reached.
  if (!engine.readFailureIsDamage(config)) return withAdmin('if-reachable', ({ admin }) => admin.verifyAudit(files), config);
  try {
    return await withAdmin('if-reachable', ({ admin }) => admin.verifyAudit(files), config);
  } catch (error) {
    const detail = error instanceof StoreUnavailable ? error.detail : engine.describeError(error);
    return { ok: false, problem: `the store cannot be read: ${detail}` };
  }
}
