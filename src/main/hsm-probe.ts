import { encryptOaepSha256 } from '../app/software-rsa.js';
import { loadConfig, loadConfigWith, type Config } from '../config/config.js';
import type { HsmConnection } from '../hsm/hsm-connection.js';
import { probeConnectedToken, probeModule } from '../hsm/token-probe.js';
import { assertKnownVault, DEFAULT_VAULT, type ProbeReport } from '../keys/vaults.js';
import { configuredToken } from './open-hsm.js';

export type { ProbeReport };

/** A module named on the command line instead of the configured one (`dke hsm probe --library …`). */
export interface ProbedLibrary {
  readonly library: string;
  readonly libraryParameters?: string;
  readonly tokenLabel?: string;
  readonly slot?: number;
  readonly pinFile?: string;
}

/** `dke hsm probe [--vault NAME]`: the configured token (the DKE_PKCS11_* settings, the vault `default`). */
export function probeConfiguredVault(vault: string = DEFAULT_VAULT, config?: Config): Promise<ProbeReport> {
  assertKnownVault(vault);
  return probeModule(configuredToken(config ?? loadConfig()), encryptOaepSha256);
}

/**
 * `dke hsm probe --library PATH …`: that module and token, with the PIN of `pinFile` only (the configured PIN belongs
 * to the configured token and is never sent to another), and as many sessions as the service would hold.
 */
export function probeLibrary(probed: ProbedLibrary): Promise<ProbeReport> {
  const config = loadConfigWith(
    {},
    {
      DKE_PKCS11_LIBRARY: probed.library,
      DKE_PKCS11_LIBRARY_PARAMETERS: probed.libraryParameters,
      DKE_PKCS11_TOKEN_LABEL: probed.tokenLabel,
      DKE_PKCS11_SLOT: probed.slot === undefined ? undefined : String(probed.slot),
      DKE_PKCS11_PIN: undefined,
      DKE_PKCS11_PIN_FILE: probed.pinFile,
    },
  );
  const { pin, ...withoutPin } = config.pkcs11;
  return probeModule(probed.pinFile === undefined ? withoutPin : config.pkcs11, encryptOaepSha256);
}

/** The probe of the service's own token, for the admin API (contract §9: `POST /admin/api/vaults/default/probe`). */
export function probeServiceToken(connection: HsmConnection): Promise<ProbeReport> {
  return probeConnectedToken(connection, encryptOaepSha256);
}
