import type { Config } from '../config/config.js';
import type { OpenHsmOptions } from '../hsm/open-hsm.js';
import type { Logger } from '../keys/ports.js';
import type { ServiceMetrics } from '../metrics/service-metrics.js';
import { openVaults, type OpenVaults } from './open-vaults.js';

/** Test seams of the service's tokens: `hsm` wraps the default vault's module, `vaults` any vault's by name. */
export interface ServiceHsmSeams {
  readonly hsm?: Pick<OpenHsmOptions, 'wrapModule' | 'wrapDecryptor'>;
  readonly vaults?: Readonly<Record<string, Pick<OpenHsmOptions, 'wrapModule' | 'wrapDecryptor'>>>;
}

/**
 * The service's tokens, one per vault (contract §9): a misconfiguration is tolerated (readiness names it until a
 * restart fixes it), faults are counted per vault, and each token's losses and recoveries are logged with its vault.
 */
export function openServiceVaults(config: Config, logger: Logger, metrics: ServiceMetrics, seams: ServiceHsmSeams = {}): OpenVaults {
  const vaults = openVaults(config, {
    tolerateMisconfiguration: true,
    seams: (vault) => seams.vaults?.[vault] ?? (vault === (config.vaults?.default ?? vault) ? seams.hsm : undefined),
    events: (vault) => ({
      onError: (errorClass) => metrics.vaultError(vault, errorClass),
      onDown: (detail) => logger.warn('HSM fault: reconnecting', { vault, detail }),
      onRecovered: (millis) => logger.info('HSM reconnected', { vault, millis }),
      onMisconfigured: (detail) => logger.error('HSM configuration refused; not ready until fixed and restarted', { vault, detail }),
    }),
  });
  metrics.watchPool(() => totalPool(vaults));
  metrics.watchVaults(() => vaults.list.map((v) => ({ vault: v.name, up: v.hsm.connection.status().state === 'up', pool: v.hsm.pool })));
  return vaults;
}

function totalPool(vaults: OpenVaults): { size: number; inUse: number; waiting: number } {
  const total = { size: 0, inUse: 0, waiting: 0 };
  for (const { hsm } of vaults.list) {
    total.size += hsm.pool.size;
    total.inUse += hsm.pool.inUse;
    total.waiting += hsm.pool.waiting;
  }
  return total;
}
