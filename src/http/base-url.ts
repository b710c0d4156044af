import type { Request } from 'express';

/**
 * `<base>` of contract §1: DKE_PUBLIC_BASE_URL when set, else scheme://host of the request (X-Forwarded-* only when
 * Express trusts the proxy), plus DKE_BASE_PATH. Never the query string: `kid` values live in documents for years.
 */
export function requestBaseUrl(req: Request, publicBaseUrl: string | undefined, basePath: string): string {
  const origin = publicBaseUrl ?? `${req.protocol}://${req.host}`;
  return `${origin}${basePath}`;
}
