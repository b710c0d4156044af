import { AdminConflict, AdminNotFound } from './errors.js';
import type { CheckStatus, HsmState, VaultStatus } from './vocabulary.js';

/**
 * Vaults (contract §9): the HSM partitions the service reaches, each a PKCS#11 token of its own. Without DKE_VAULTS
 * there is one, named `default`: the token of the DKE_PKCS11_* settings, where every version of an older store is.
 */
export const DEFAULT_VAULT = 'default';

/** A vault's name: letters, digits, ".", "_" and "-", at most 64, starting with a letter or digit. */
export function isVaultName(name: string): boolean {
  return /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(name);
}

/** The vaults an instance configures, by name, and the one that takes new keys unless told otherwise. */
export interface VaultNames {
  readonly default: string;
  readonly statuses: ReadonlyMap<string, VaultStatus>;
}

/** Refuses a vault name the instance does not configure (AdminNotFound: 404 on the admin API, exit 2 on the CLI). */
export function assertKnownVault(vaults: VaultNames, name: string): void {
  if (vaults.statuses.has(name)) return;
  throw new AdminNotFound(`There is no vault "${name.slice(0, 140)}"; this instance has ${[...vaults.statuses.keys()].map((v) => `"${v}"`).join(', ')}.`);
}

/**
 * The vault a new version goes to (create, rotate, import): the named one or the default; refused when unknown, or
 * inactive (contract §9: an inactive vault takes no new keys, its versions keep decrypting).
 */
export function vaultForNewKey(vaults: VaultNames, named: string | undefined): string {
  const name = named ?? vaults.default;
  assertKnownVault(vaults, name);
  if (vaults.statuses.get(name) === 'inactive') {
    throw new AdminConflict(`The vault "${name}" is inactive: it takes no new keys (its versions keep decrypting); choose an active vault with --vault or "vault".`);
  }
  return name;
}

/** One check of `dke hsm probe` (contract §9): what was tried on the token, and how it went in one sentence. */
export interface ProbeCheck {
  readonly name: string;
  readonly status: CheckStatus;
  /** One sentence; on a failure or warning it also says what to ask the vendor. Never a PIN. */
  readonly detail: string;
}

/** The probe's answer (contract §9): `fail` when a check failed, else `warn` when one warned, else `pass`. */
export interface ProbeReport {
  readonly verdict: CheckStatus;
  readonly checks: readonly ProbeCheck[];
}

export function probeReport(checks: readonly ProbeCheck[]): ProbeReport {
  const verdict = checks.some((c) => c.status === 'fail') ? 'fail' : checks.some((c) => c.status === 'warn') ? 'warn' : 'pass';
  return { verdict, checks };
}

/** A vault as the admin API lists it: where its token is, and how the service's connection to it stands. */
export interface VaultView {
  readonly name: string;
  readonly library: string;
  /** The token's label, or its slot (an index into the slots that hold a token) when the vault names a slot. */
  readonly tokenLabel?: string;
  readonly slot?: number;
  readonly status: VaultStatus;
  /** Sessions the service holds open on the token now (its pool), and how many of them are in use. */
  readonly sessions: number;
  readonly sessionsInUse: number;
  readonly connection: { readonly state: HsmState; readonly since: string; readonly detail: string | null; readonly recoveries: number };
}

/** The vaults and which one takes new keys, in the shape of the vaults file of contract §9. */
export interface VaultList {
  readonly default: string;
  readonly vaults: readonly VaultView[];
}

/** What the admin API reads about vaults; main/ builds it over the service's token. */
export interface VaultDirectory {
  list(): VaultList;
  /** Probes the named vault's token in this process (a temporary key made and destroyed); AdminNotFound for another name. */
  probe(name: string): Promise<ProbeReport>;
}
