import type { Express } from 'express';
import type { KeyAdmin } from '../app/key-admin.js';
import type { ReadinessReport } from '../app/readiness.js';
import type { HttpObserver, Logger, TokenVerifier } from '../keys/ports.js';
import type { VaultDirectory } from '../keys/vaults.js';
import { adminOpenApi } from './admin-openapi.js';
import { adminRoutes } from './admin-routes.js';
import { answerErrors, guardedApp, type HttpSettings } from './app.js';
import { bearerAuth } from './bearer-auth.js';
import { consoleRoutes, type ConsoleOptions } from './console-routes.js';

export interface AdminAppDeps {
  readonly config: Pick<HttpSettings, 'trustProxy' | 'rateLimit' | 'auth'>;
  /** Verifies admin tokens: audience DKE_ADMIN_AUDIENCE, user or app-only (see VerifierProfile 'admin'). */
  readonly verifier: TokenVerifier;
  readonly keyAdmin: (actor: string, principal: string) => KeyAdmin;
  readonly logger: Logger;
  readonly metrics: HttpObserver;
  readonly readiness: () => ReadinessReport;
  /** The vaults of contract §9 (listed and probed by the admin API). */
  readonly vaults: VaultDirectory;
  /** The console at /admin/ (contract §7). */
  readonly console: ConsoleOptions;
}

/**
 * The admin API (contract §6) on its own listener: the same guards, error bodies and failed-authentication limiter as
 * the DKE port, routes that call the key-admin service acting as the caller, its OpenAPI description, and the console.
 */
export function createAdminApp(deps: AdminAppDeps): Express {
  const app = guardedApp(deps.config.trustProxy, deps.logger, deps.metrics);
  const authenticate = bearerAuth({
    verifier: deps.verifier,
    windowSeconds: deps.config.rateLimit.windowSeconds,
    maxFailures: deps.config.rateLimit.maxFailures,
    onFailure: (req, reason) => {
      deps.logger.info('admin authentication failed', { requestId: req.res?.locals.requestId, reason });
    },
  });
  app.use(adminRoutes({ authenticate, keyAdmin: deps.keyAdmin, openApi: adminOpenApi(), readiness: deps.readiness, vaults: deps.vaults }));
  app.use(consoleRoutes(deps.console));
  answerErrors(app, deps.config.auth, deps.logger);
  return app;
}
