import { encryptOaepSha256 } from '../app/software-rsa.js';
import { loadConfig, namedModuleSettings, type Config, type NamedModule } from '../config/config.js';
import type { HsmConnection } from '../hsm/hsm-connection.js';
import { probeConnectedToken, probeModule } from '../hsm/token-probe.js';
import { vaultNames, vaultsOf } from '../config/vaults-file.js';
import { assertKnownVault, type ProbeReport } from '../keys/vaults.js';
import { configuredToken } from './open-hsm.js';

export type { ProbeReport };

/** A module named on the command line instead of the configured one (`dke hsm probe --library …`). */
export type ProbedLibrary = NamedModule;

/** `dke hsm probe [--vault NAME]`: the token of a configured vault (default: the default vault; contract §9). */
export async function probeConfiguredVault(vault?: string, config: Config = loadConfig()): Promise<ProbeReport> {
  const vaults = vaultsOf(config);
  const name = vault ?? vaults.default;
  assertKnownVault(vaultNames(vaults), name);
  const settings = config.vaults === undefined ? configuredToken(config) : vaults.vaults.find((v) => v.name === name)!.pkcs11;
  return probeModule(settings, encryptOaepSha256);
}

/**
 * `dke hsm probe --library PATH …`: that module and token, with the PIN of `pinFile` only (the configured PIN belongs
 * to the configured token and is never sent to another), and as many sessions as the service would hold.
 */
export function probeLibrary(probed: ProbedLibrary, config: Config = loadConfig()): Promise<ProbeReport> {
  return probeModule(namedModuleSettings(probed, config.pkcs11), encryptOaepSha256);
}

/** The probe of one of the service's own tokens, for the admin API (contract §9: `POST /admin/api/vaults/{name}/probe`). */
export function probeServiceToken(connection: HsmConnection): Promise<ProbeReport> {
  return probeConnectedToken(connection, encryptOaepSha256);
}
