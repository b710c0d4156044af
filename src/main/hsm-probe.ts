import { encryptOaepSha256 } from '../app/software-rsa.js';
import { loadConfig, namedModuleSettings, type Config, type NamedModule } from '../config/config.js';
import type { HsmConnection } from '../hsm/hsm-connection.js';
import { probeConnectedToken, probeModule } from '../hsm/token-probe.js';
import { assertKnownVault, DEFAULT_VAULT, type ProbeReport } from '../keys/vaults.js';
import { configuredToken } from './open-hsm.js';

export type { ProbeReport };

/** A module named on the command line instead of the configured one (`dke hsm probe --library …`). */
export type ProbedLibrary = NamedModule;

/** `dke hsm probe [--vault NAME]`: the configured token (the DKE_PKCS11_* settings, the vault `default`). */
export function probeConfiguredVault(vault: string = DEFAULT_VAULT, config?: Config): Promise<ProbeReport> {
  assertKnownVault(vault);
  return probeModule(configuredToken(config ?? loadConfig()), encryptOaepSha256);
}

/**
 * `dke hsm probe --library PATH …`: that module and token, with the PIN of `pinFile` only (the configured PIN belongs
 * to the configured token and is never sent to another), and as many sessions as the service would hold.
 */
export function probeLibrary(probed: ProbedLibrary, config: Config = loadConfig()): Promise<ProbeReport> {
  return probeModule(namedModuleSettings(probed, config.pkcs11), encryptOaepSha256);
}

/** The probe of the service's own token, for the admin API (contract §9: `POST /admin/api/vaults/default/probe`). */
export function probeServiceToken(connection: HsmConnection): Promise<ProbeReport> {
  return probeConnectedToken(connection, encryptOaepSha256);
}
