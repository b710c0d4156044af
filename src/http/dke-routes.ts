import express, { type IRouter, type NextFunction, type Request, type Response } from 'express';
import type { DkeProtocol } from '../app/dke-protocol.js';
import type { Principal } from '../keys/access-policy.js';
import { requestBaseUrl } from './base-url.js';
import { HttpError } from './error-responses.js';

/** A decrypt body is ~350 bytes; 64 KiB leaves room for any client and none for abuse. */
export const DECRYPT_BODY_LIMIT_BYTES = 64 * 1024;

export interface DkeRoutesOptions {
  readonly protocol: DkeProtocol;
  readonly authenticate: express.RequestHandler;
  /** 421 for a Host the service may not build a `kid` from; no check when DKE_PUBLIC_BASE_URL is set. */
  readonly servedHost: express.RequestHandler | undefined;
  readonly publicBaseUrl: string | undefined;
  readonly basePath: string;
}

/**
 * The two DKE endpoints of contract §1. Routing is case-insensitive (as ASP.NET's), parameters keep their case.
 * The body is read raw (413 over the limit, 415 when not JSON) and parsed only at the "validate body" step, after
 * authentication and the key checks, so the response order is the reference's.
 */
export function addDkeRoutes(router: IRouter, options: DkeRoutesOptions): void {
  const hostChecks = options.servedHost === undefined ? [] : [options.servedHost];

  router.get('/:keyName', ...hostChecks, async (req: Request<{ keyName: string }>, res: Response) => {
    const baseUrl = requestBaseUrl(req, options.publicBaseUrl, options.basePath);
    const body = await options.protocol.publicKeyBody(req.params.keyName, baseUrl);
    // The bytes are built once per key change (DkeProtocol); res.json would serialise them again on every request.
    res.setHeader('Content-Type', 'application/json; charset=utf-8');
    res.setHeader('Content-Length', body.length);
    res.end(body);
  });

  router.post(
    '/:keyName/:keyId/decrypt',
    ...hostChecks,
    requireJson,
    // No inflation: a ~350-byte body needs no compression, and a compressed one is a decompression bomb to refuse (415).
    express.raw({ type: () => true, limit: DECRYPT_BODY_LIMIT_BYTES, inflate: false }),
    options.authenticate,
    async (req: Request<{ keyName: string; keyId: string }>, res: Response) => {
      const principal = res.locals.principal as Principal;
      const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      res.json(await options.protocol.decrypt(principal, req.params.keyName, req.params.keyId, body));
    },
  );
}

/** 415 for any declared type other than JSON; a missing type is refused too (Office always sends one). */
function requireJson(req: Request, _res: Response, next: NextFunction): void {
  const type = (req.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  if (type === 'application/json' || (type.startsWith('application/') && type.endsWith('+json'))) {
    next();
    return;
  }
  next(new HttpError(415, 'unsupported_media_type', 'The body must be JSON (Content-Type: application/json).'));
}
