import type { Express } from 'express';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DkeProtocol } from '../app/dke-protocol.js';
import type { Readiness } from '../app/readiness.js';
import type { Config } from '../config/config.js';
import { createAdminApp } from '../http/admin-app.js';
import { createApp } from '../http/app.js';
import { createMetricsApp } from '../http/metrics-routes.js';
import type { Logger } from '../keys/ports.js';
import type { VaultDirectory } from '../keys/vaults.js';
import type { ServiceMetrics } from '../metrics/service-metrics.js';
import type { KeyAdminFactory } from './key-admins.js';
import type { ServiceVerifiers } from './service-auth.js';

/** Where `npm run build` puts the console's bundle: beside the compiled service (dist/console). */
export const CONSOLE_ASSETS_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'console');

export interface ServiceApps {
  readonly app: Express;
  readonly adminApp: Express;
  /** The listener of DKE_METRICS_PORT, when set; otherwise /metrics is on the admin app. */
  readonly metricsApp?: Express;
}

/** The DKE endpoints' app, and the admin API's with the console, each with its own verifier; /metrics apart from the DKE port. */
export function createServiceApps(
  config: Config,
  parts: { readonly protocol: DkeProtocol; readonly readiness: Readiness; readonly verifiers: ServiceVerifiers; readonly adminAs: KeyAdminFactory; readonly metrics: ServiceMetrics; readonly vaults: VaultDirectory },
  logger: Logger,
): ServiceApps {
  const { protocol, readiness, verifiers, metrics } = parts;
  const app = createApp({ config, protocol, readiness, verifier: verifiers.verifier, logger, metrics });
  const adminApp = createAdminApp({
    config: { ...config, auth: { ...config.auth, audiences: config.adminAudiences } },
    verifier: verifiers.adminVerifier,
    keyAdmin: parts.adminAs,
    logger,
    metrics,
    ...(config.metrics === undefined ? { exposeMetrics: metrics } : {}),
    readiness: () => readiness.report,
    vaults: parts.vaults,
    console: { assetsDir: CONSOLE_ASSETS_DIR, signIn: config.consoleSignIn, scope: consoleScope(config.adminAudiences), labelBaseUrl: labelBaseUrl(config) },
  });
  return { app, adminApp, ...(config.metrics !== undefined ? { metricsApp: createMetricsApp(config, logger, metrics) } : {}) };
}

/** The console asks for a token of the admin API's first audience, with the app roles assigned to the user there. */
function consoleScope(audiences: readonly string[]): string {
  const audience = audiences[0] ?? '';
  return `${audience.replace(/\/+$/, '')}/.default`;
}

/** The URL a sensitivity label names, without the key: DKE_PUBLIC_BASE_URL, else the service URL that tokens are for. */
function labelBaseUrl(config: Config): string {
  const base = config.publicBaseUrl ?? (config.auth.audiences[0] ?? '').replace(/\/+$/, '');
  return `${base}${config.basePath}`;
}
