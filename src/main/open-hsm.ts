import { existsSync } from 'node:fs';
import type { Config } from '../config/config.js';
import { embeddedTokenSettings } from '../config/embedded-token.js';
import { useOneNssIteration } from '../config/nss-environment.js';
import { openHsm, type OpenHsm, type OpenHsmOptions } from '../hsm/open-hsm.js';
import { HsmConfigurationError } from '../keys/errors.js';

/**
 * The token of the configuration, for the service and for every CLI command alike. The embedded development token
 * must exist first (made by `dke dev` or `dke dev-token init`), and NSS gets its one PBKDF2 iteration.
 */
export function openConfiguredHsm(config: Config, options: OpenHsmOptions = {}): OpenHsm {
  return openHsm(configuredToken(config), options);
}

/** The token settings of the configuration, the embedded development token made ready first. */
export function configuredToken(config: Config): Config['pkcs11'] {
  if (config.pkcs11.embedded) prepareEmbeddedToken(config.dataDir);
  return config.pkcs11;
}

function prepareEmbeddedToken(dataDir: string): void {
  const settings = embeddedTokenSettings(dataDir);
  if (!existsSync(settings.library)) {
    throw new HsmConfigurationError(
      `The embedded development token needs NSS softoken (${settings.library}); install Debian's libnss3 and libnss3-tools, or set DKE_PKCS11_LIBRARY.`,
    );
  }
  if (!existsSync(settings.pinFile)) {
    throw new HsmConfigurationError(
      `The embedded development token does not exist yet in ${settings.tokenDir}: run "npm run dev" (or "dke dev-token init") first, or set DKE_PKCS11_LIBRARY for a real HSM.`,
    );
  }
  useOneNssIteration();
}
