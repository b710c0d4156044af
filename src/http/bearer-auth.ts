import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { rateLimit } from 'express-rate-limit';
import type { TokenVerifier } from '../keys/ports.js';
import { TokenInvalid } from '../keys/errors.js';
import { HttpError } from './error-responses.js';

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
 * the Principal in `res.locals.principal`. Failures are counted per client address; past the limit the caller gets
 * 429 instead of 401. A caller with a valid token is never counted nor limited: many Office users share one NAT.
 */
export function bearerAuth(options: BearerAuthOptions): RequestHandler {
  const failureLimiter = rateLimit({
    windowMs: options.windowSeconds * 1000,
    limit: options.maxFailures,
    standardHeaders: 'draft-7',
    legacyHeaders: false,
    // X-Forwarded-For is ignored on purpose unless DKE_TRUST_PROXY says whom to believe; no warning for it.
    validate: { xForwardedForHeader: false },
    handler: (_req, _res, next) => next(new HttpError(429, 'rate_limited', 'Too many failed authentications; try again later.')),
  });

  return (req: Request, res: Response, next: NextFunction): void => {
    const token = bearerToken(req.get('authorization'));
    const verified = token === undefined ? Promise.reject(new TokenInvalid('A valid bearer token is required.', 'no bearer token')) : options.verifier.verify(token);
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

/** The token of an `Authorization: Bearer <token>` header; the scheme is case-insensitive (RFC 7235 §2.1). */
export function bearerToken(header: string | undefined): string | undefined {
  if (header === undefined || header.length > MAX_TOKEN_LENGTH + 7) return undefined;
  const match = /^bearer +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(header);
  return match?.[1];
}
