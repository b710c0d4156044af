import type { Config } from '../config/config.js';
import type { OpenHsm } from '../hsm/open-hsm.js';
import { assertKnownVault, DEFAULT_VAULT, type ProbeReport, type VaultDirectory, type VaultView } from '../keys/vaults.js';
import { probeServiceToken } from './hsm-probe.js';

/**
 * The vaults of this instance for the admin API (contract §9): until several are configured, the one vault `default`,
 * the token of the DKE_PKCS11_* settings, always active. Its probe runs on the service's own token, beside the pool.
 */
export function serviceVaults(config: Config, hsm: OpenHsm): VaultDirectory {
  // Callers who ask while a probe runs share its report: a key generation per request would let a reader load the HSM.
  let running: Promise<ProbeReport> | undefined;
  return {
    list: () => ({ default: DEFAULT_VAULT, vaults: [defaultVault(config, hsm)] }),
    probe: (name) => {
      assertKnownVault(name);
      running ??= probeServiceToken(hsm.connection).finally(() => {
        running = undefined;
      });
      return running;
    },
  };
}

function defaultVault(config: Config, hsm: OpenHsm): VaultView {
  const { library, tokenLabel, slotIndex } = config.pkcs11;
  const status = hsm.connection.status();
  return {
    name: DEFAULT_VAULT,
    library,
    ...(tokenLabel !== undefined ? { tokenLabel } : {}),
    ...(slotIndex !== undefined ? { slot: slotIndex } : {}),
    status: 'active',
    sessions: hsm.pool.size,
    sessionsInUse: hsm.pool.inUse,
    connection: { state: status.state, since: status.since, detail: status.detail ?? null, recoveries: status.recoveries },
  };
}
