import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { ipKeyGenerator, rateLimit } from 'express-rate-limit';
import type { TokenVerifier } from '../keys/ports.js';
import { TokenInvalid } from '../keys/errors.js';
import { RateLimited } from './error-responses.js';

/** Entra access tokens are a few kB; anything far larger is garbage and is refused before parsing. */
const MAX_TOKEN_LENGTH = 16 * 1024;

export interface BearerAuthOptions {
  readonly verifier: TokenVerifier;
  readonly windowSeconds: number;
  readonly maxFailures: number;
  readonly onFailure?: (req: Request, reason: string) => void;
}

/**
 * Authenticates the caller from the `Authorization: Bearer` header only (never the query string or body) and puts
 * the Principal in `res.locals.principal`. Only a presented credential that fails is counted per client address
 * (issue 18); past the limit that caller gets 429, with the 401 challenge headers still on it. A request without any
 * `Authorization` header is Office's first step (it asks for the challenge, then gets a token): it always gets its
 * 401 challenge and is never counted, so one office's NAT address full of users opening documents is never locked
 * out; a caller with a valid token is never counted nor limited either.
 */
export function bearerAuth(options: BearerAuthOptions): RequestHandler {
  const failureLimiter = rateLimit({
    windowMs: options.windowSeconds * 1000,
    limit: options.maxFailures,
    standardHeaders: 'draft-7',
    legacyHeaders: false,
    // The address Express derives (DKE_TRUST_PROXY is checked at start: a hop count or trusted addresses, never
    // `true`); IPv6 callers are counted per /56 as the library advises. Its own start-up validation is off: it
    // writes multi-line, non-JSON text to the console (issue 18: every log line is JSON).
    keyGenerator: (req) => ipKeyGenerator(clientAddress(req)),
    validate: false,
    handler: (_req, _res, next) => next(new RateLimited()),
  });

  return (req: Request, res: Response, next: NextFunction): void => {
    const header = req.get('authorization');
    if (header === undefined) {
      options.onFailure?.(req, 'no bearer token');
      next(new TokenInvalid('A valid bearer token is required.', 'no bearer token'));
      return;
    }
    const token = bearerToken(header);
    const verified = token === undefined ? Promise.reject(new TokenInvalid('A valid bearer token is required.', 'malformed Authorization header')) : options.verifier.verify(token);
    verified.then(
      (principal) => {
        res.locals.principal = principal;
        next();
      },
      (error: unknown) => {
        const reason = error instanceof TokenInvalid ? (error.detail ?? 'invalid token') : 'verifier failure';
        options.onFailure?.(req, reason);
        const failure = error instanceof TokenInvalid ? error : new TokenInvalid('A valid bearer token is required.', reason);
        failureLimiter(req, res, (limited?: unknown) => next(limited ?? failure));
      },
    );
  };
}

/**
 * The client address the limiter counts: Express's `req.ip` (which DKE_TRUST_PROXY may take from X-Forwarded-For),
 * without the `:port` some proxies write there (Application Gateway, IIS ARR, App Service): counted with its port, a
 * client would get a fresh allowance with every connection.
 */
export function clientAddress(req: Request): string {
  const address = req.ip ?? req.socket.remoteAddress ?? 'unknown';
  return /^(\d{1,3}(?:\.\d{1,3}){3}):\d{1,5}$/.exec(address)?.[1] ?? /^\[([0-9A-Fa-f:.]+)\]:\d{1,5}$/.exec(address)?.[1] ?? address;
}

/** The token of an `Authorization: Bearer <token>` header; the scheme is case-insensitive (RFC 7235 §2.1). */
export function bearerToken(header: string | undefined): string | undefined {
  if (header === undefined || header.length > MAX_TOKEN_LENGTH + 7) return undefined;
  const match = /^bearer +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(header);
  return match?.[1];
}
