import type { Config } from '../config/config.js';
import type { OpenHsm, OpenHsmOptions } from '../hsm/open-hsm.js';
import type { Logger } from '../keys/ports.js';
import type { ServiceMetrics } from '../metrics/service-metrics.js';
import { openConfiguredHsm } from './open-hsm.js';

/**
 * The service's token: a misconfiguration is tolerated (readiness fails with its sentence until a restart fixes it),
 * faults are counted, and the token's losses and recoveries are logged as they happen.
 */
export function openServiceHsm(config: Config, logger: Logger, metrics: ServiceMetrics, seams: Pick<OpenHsmOptions, 'wrapModule' | 'wrapDecryptor'> = {}): OpenHsm {
  return openConfiguredHsm(config, {
    ...seams,
    tolerateMisconfiguration: true,
    events: {
      onError: (errorClass) => metrics.hsmError(errorClass),
      onDown: (detail) => logger.warn('HSM fault: reconnecting', { detail }),
      onRecovered: (millis) => logger.info('HSM reconnected', { millis }),
      onMisconfigured: (detail) => logger.error('HSM configuration refused; not ready until fixed and restarted', { detail }),
    },
  });
}
