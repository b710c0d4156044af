import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import helmet from 'helmet';
import type { DkeProtocol } from '../app/dke-protocol.js';
import type { Readiness } from '../app/readiness.js';
import type { Principal } from '../keys/access-policy.js';
import { DkeError, HsmUnavailable } from '../keys/errors.js';
import type { HttpObserver, Logger, TokenVerifier } from '../keys/ports.js';
import { bearerAuth } from './bearer-auth.js';
import { addDkeRoutes, DECRYPT_BODY_LIMIT_BYTES } from './dke-routes.js';
import { errorResponse, HttpError, type ChallengeSettings } from './error-responses.js';
import { addHealthRoutes } from './health-routes.js';
import { assignRequestId } from './request-id.js';
import { requireServedHost } from './served-host.js';

/** The settings the HTTP layer reads (the service's Config has them under these names). */
export interface HttpSettings {
  readonly trustProxy: false | number | readonly string[];
  readonly basePath: string;
  readonly publicBaseUrl?: string;
  readonly rateLimit: { readonly windowSeconds: number; readonly maxFailures: number };
  readonly auth: ChallengeSettings;
}

export interface AppDeps {
  readonly config: HttpSettings;
  readonly protocol: DkeProtocol;
  readonly readiness: Readiness;
  readonly verifier: TokenVerifier;
  readonly logger: Logger;
  readonly metrics: HttpObserver;
}

/** Builds the Express application: middleware, routes, and the one error handler, registered last. */
export function createApp(deps: AppDeps): Express {
  const { config, logger } = deps;
  const app = guardedApp(config.trustProxy, logger, deps.metrics);

  const authenticate = bearerAuth({
    verifier: deps.verifier,
    windowSeconds: config.rateLimit.windowSeconds,
    maxFailures: config.rateLimit.maxFailures,
    onFailure: (req, reason) => {
      logger.info('authentication failed', { requestId: req.res?.locals.requestId, reason });
    },
  });

  // The routes sit on the application itself (a base path needs one router): every level of nesting is one more
  // dispatch on each request (issue 19).
  const routes = config.basePath ? express.Router({ caseSensitive: false }) : app;
  addHealthRoutes(routes, deps.readiness);
  // Metrics are served on the admin listener or DKE_METRICS_PORT's (./metrics-routes.ts; issue 26). Here the reserved
  // name is the 404 of an unknown route for any Host: never a key look-up, never the 421 of a foreign Host.
  routes.get('/metrics', (_req: Request, _res: Response, next: NextFunction) => {
    next(new HttpError(404, 'not_found', 'No such route.'));
  });
  addDkeRoutes(routes, {
    protocol: deps.protocol,
    authenticate,
    publicBaseUrl: config.publicBaseUrl,
    basePath: config.basePath,
    servedHost: config.publicBaseUrl === undefined ? requireServedHost(config.auth.audiences) : undefined,
  });
  if (routes !== app) app.use(config.basePath, routes);
  answerErrors(app, config.auth, logger);
  return app;
}

/**
 * An Express application with what every listener of the service puts before its routes (the DKE port and the admin
 * API alike): request id, request log, the 503 while stopping, security headers, and the refusals that need no route
 * (URL too long, declared body too large, CORS preflight).
 */
export function guardedApp(trustProxy: HttpSettings['trustProxy'], logger: Logger, metrics: HttpObserver): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', trustProxy);
  app.set('case sensitive routing', false);
  // Office caches public keys by cache.exp; an ETag would only cost a hash of every response.
  app.set('etag', false);

  app.use(requestGuard(logger, metrics));
  return app;
}

/** What every listener puts after its routes: the JSON 404 of an unknown route, and the one error handler. */
export function answerErrors(app: Express, auth: ChallengeSettings, logger: Logger): void {
  app.use((_req: Request, _res: Response, next: NextFunction) => {
    next(new HttpError(404, 'not_found', 'No such route.'));
  });
  app.use((error: unknown, req: Request, res: Response, _next: NextFunction) => {
    const response = errorResponse(error, auth);
    if (response.body.error === 'internal_error') {
      logger.error('request failed', { requestId: res.locals.requestId, path: req.path, error: describeUnexpected(error) });
    } else if (error instanceof DkeError && error.detail !== undefined) {
      res.locals.errorDetail = error.detail;
    }
    res.status(response.status).set(response.headers).json(response.body);
  });
}

/**
 * What every request goes through before routing, as one middleware (each Express layer costs a dispatch on every
 * request; issue 19): its id, its log line and metrics, the 503 while stopping, the security headers, and the
 * refusals that need no route. In that order: a refused request still has its id, its log line and (but for the
 * 503 while stopping, which leaves at once) the security headers.
 */
function requestGuard(logger: Logger, metrics: HttpObserver): (req: Request, res: Response, next: NextFunction) => void {
  const setSecurityHeaders = helmetHeaderSetter();
  return (req, res, next) => {
    assignRequestId(req, res);
    logWhenFinished(req, res, logger, metrics);
    if (req.app.locals.stopping === true) {
      closeWhileStopping(res, next);
      return;
    }
    setSecurityHeaders(res);
    next(refusalBeforeRouting(req, res));
  };
}

/**
 * Once a graceful stop began (`app.locals.stopping`, set by the server's stop), every response closes its connection,
 * and a request that still arrives on a kept-alive connection gets a 503 to retry elsewhere (the load balancer's
 * other instances) instead of work that might be cut short.
 */
function closeWhileStopping(res: Response, next: NextFunction): void {
  res.setHeader('Connection', 'close');
  next(new HsmUnavailable('the service is stopping', 1));
}

/**
 * helmet's default headers, worked out once: with its defaults helmet sets the same headers on every response, and
 * running its thirteen middlewares per request cost more than setting their result (issue 19). A probe response
 * records what helmet does; each response then gets exactly that.
 */
function helmetHeaderSetter(): (res: Response) => void {
  const set: [string, string][] = [];
  const removed: string[] = [];
  const probe = {
    setHeader: (name: string, value: unknown) => set.push([name, String(value)]),
    removeHeader: (name: string) => removed.push(name),
  };
  let finished = false;
  helmet()({} as Request, probe as unknown as Response, () => {
    finished = true;
  });
  // helmet's defaults need nothing of the request and finish at once; anything else would need it per request.
  if (!finished) throw new Error('helmet did not finish synchronously: its headers cannot be worked out once');
  return (res) => {
    for (const name of removed) res.removeHeader(name);
    for (const [name, value] of set) res.setHeader(name, value);
  };
}

/** DKE URLs are short (`/{keyName}/{keyId}/decrypt`); a longer one is refused before routing (RFC 9110 §15.5.15). */
const MAX_URL_LENGTH = 2048;

/**
 * The refusals that need no route, or undefined:
 * - 414 for a URL over MAX_URL_LENGTH;
 * - 413 as soon as the headers declare a body over the limit (issue 18), before a byte of it is read, and the
 *   connection is closed rather than drained: a declared gigabyte must not hold a socket until the request timeout.
 *   Bodies without a length (chunked) are cut at the same limit while they are read (dke-routes);
 * - CORS stays closed: no browser origin may call the service (Office calls it from native code). Express would
 *   otherwise answer OPTIONS itself with an Allow list; a preflight gets the JSON 404 of any unknown route instead;
 * - 400 for two Host headers (RFC 9112 §3.2: a server must answer 400): Node keeps only the first, and a proxy in front
 *   may have routed or checked by the other (issue 26).
 */
function refusalBeforeRouting(req: Request, res: Response): HttpError | undefined {
  if (req.originalUrl.length > MAX_URL_LENGTH) return new HttpError(414, 'uri_too_long', 'The request URL is too long.');
  if (hostHeaderCount(req) > 1) return new HttpError(400, 'invalid_request', 'The request has more than one Host header.');
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > DECRYPT_BODY_LIMIT_BYTES) {
    res.setHeader('Connection', 'close');
    return new HttpError(413, 'payload_too_large', 'The body is larger than the service accepts.');
  }
  if (req.method === 'OPTIONS') return new HttpError(404, 'not_found', 'No such route.');
  return undefined;
}

/** How many Host headers the request carried (Node's `req.headers` keeps only the first). */
function hostHeaderCount(req: Request): number {
  let count = 0;
  for (let i = 0; i < req.rawHeaders.length; i += 2) if (req.rawHeaders[i]!.length === 4 && req.rawHeaders[i]!.toLowerCase() === 'host') count += 1;
  return count;
}

/** One JSON line per request: id, method, path (never the query string: it may hold a token), status, duration, user. */
function logWhenFinished(req: Request, res: Response, logger: Logger, metrics: HttpObserver): void {
  const started = process.hrtime.bigint();
  res.once('finish', () => {
    const principal = res.locals.principal as Principal | undefined;
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    metrics.httpRequest((req.route as { path?: string } | undefined)?.path ?? 'unmatched', res.statusCode, seconds);
    logger.info('request', {
      requestId: res.locals.requestId,
      method: req.method,
      path: req.originalUrl.split('?')[0]!.slice(0, 512),
      status: res.statusCode,
      durationMs: seconds * 1000,
      ...(principal ? { oid: principal.oid } : {}),
      ...(res.locals.errorDetail ? { reason: res.locals.errorDetail } : {}),
    });
  });
}

function describeUnexpected(error: unknown): Record<string, string> {
  if (error instanceof Error) return { name: error.name, message: error.message, stack: error.stack ?? '' };
  return { name: typeof error };
}
