import type { Express, NextFunction, Request, Response } from 'express';
import type { ReadinessReport } from '../app/readiness.js';
import type { HttpObserver, Logger, MetricsExposition, TokenVerifier } from '../keys/ports.js';
import type { VaultDirectory } from '../keys/vaults.js';
import { adminOpenApi } from './admin-openapi.js';
import { adminRoutes, type AdminRoutesOptions } from './admin-routes.js';
import { answerErrors, guardedApp, type HttpSettings } from './app.js';
import { bearerAuth } from './bearer-auth.js';
import { consoleRoutes, type ConsoleOptions } from './console-routes.js';
import { addMetricsRoute, METRICS_OPENAPI_PATH } from './metrics-routes.js';

export interface AdminAppDeps {
  readonly config: Pick<HttpSettings, 'trustProxy' | 'rateLimit' | 'auth'>;
  /** Verifies admin tokens: audience DKE_ADMIN_AUDIENCE, user or app-only (see VerifierProfile 'admin'). */
  readonly verifier: TokenVerifier;
  readonly keyAdmin: AdminRoutesOptions['keyAdmin'];
  readonly logger: Logger;
  readonly metrics: HttpObserver;
  /** Served at /metrics when DKE_METRICS_PORT does not have a listener of its own (contract §1). */
  readonly exposeMetrics?: MetricsExposition;
  readonly readiness: () => ReadinessReport;
  /** The vaults of contract §9 (listed and probed by the admin API). */
  readonly vaults: VaultDirectory;
  /** The console at /admin/ (contract §7). */
  readonly console: ConsoleOptions;
}

const ADMIN_API_PATH = '/admin/api';

function isAdminApiPath(path: string): boolean {
  return path === ADMIN_API_PATH || path.startsWith(`${ADMIN_API_PATH}/`);
}

/** Issue 26: no admin API answer (keys, grants, the trail, refusals) is kept by a browser or a proxy cache. */
function noStore(_req: Request, res: Response, next: NextFunction): void {
  res.set('Cache-Control', 'no-store');
  next();
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
  if (deps.exposeMetrics !== undefined) addMetricsRoute(app, deps.exposeMetrics);
  app.use(ADMIN_API_PATH, noStore);
  const openApi = adminOpenApi();
  if (deps.exposeMetrics !== undefined) (openApi.paths as Record<string, unknown>)['/metrics'] = METRICS_OPENAPI_PATH;
  app.use(adminRoutes({ authenticate, keyAdmin: deps.keyAdmin, openApi, readiness: deps.readiness, vaults: deps.vaults }));
  app.use(consoleRoutes(deps.console));
  // Refusals that came before routing (URL too long, two Host headers, stopping) skipped the line above.
  app.use((error: unknown, req: Request, res: Response, next: NextFunction) => {
    if (isAdminApiPath(req.path)) noStore(req, res, () => undefined);
    next(error);
  });
  answerErrors(app, deps.config.auth, deps.logger);
  return app;
}
