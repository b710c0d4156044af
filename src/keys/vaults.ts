import { AdminNotFound } from './errors.js';
import type { CheckStatus, HsmState, VaultStatus } from './vocabulary.js';

/**
 * Vaults (contract §9): the HSM partitions the service reaches. Until several are configured there is one, named
 * `default`: the token of the DKE_PKCS11_* settings.
 */
export const DEFAULT_VAULT = 'default';

/** Refuses every vault name but `default` (contract §9: several vaults are not configured yet). */
export function assertKnownVault(name: string): void {
  if (name === DEFAULT_VAULT) return;
  throw new AdminNotFound(
    `There is no vault "${name.slice(0, 140)}": multiple vaults are not configured, so the one vault is "${DEFAULT_VAULT}" (the DKE_PKCS11_* settings).`,
  );
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
