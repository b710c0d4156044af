import { isIP } from 'node:net';
import type { NextFunction, Request, Response } from 'express';
import { HttpError } from './error-responses.js';

/** `host[:port]` as a Host header may carry it; anything else (userinfo, path, query, spaces) is no host. */
const HOST_HEADER = /^(?<name>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::(?<port>\d{1,5}))?$/;

/**
 * Without DKE_PUBLIC_BASE_URL, `kid` is built from the request's host (contract §1), and a `kid` lives inside
 * documents for years: only the hosts of DKE_AUTH_AUDIENCE (the names Office was given in the label) and loopback
 * (development) may be answered. Any other Host, a missing one (HTTP/1.0) or one that is not a plain host[:port]
 * gets 421 Misdirected Request (RFC 9110 §15.5.20) before any key is looked at. Returns the middleware for DKE routes.
 */
export function requireServedHost(audiences: readonly string[]) {
  const served = audienceHosts(audiences);
  return (req: Request, _res: Response, next: NextFunction): void => {
    next(isServedHost(req.host, served) ? undefined : new HttpError(421, 'misdirected_request', 'This service does not answer for that host name; use the URL of the sensitivity label.'));
  };
}

interface ServedHost {
  readonly hostname: string;
  readonly port: string;
}

/** Each audience that is an http(s) URL names a host (with its port, explicit or the scheme's default). */
function audienceHosts(audiences: readonly string[]): ServedHost[] {
  const hosts: ServedHost[] = [];
  for (const audience of audiences) {
    let url: URL;
    try {
      url = new URL(audience);
    } catch {
      continue;
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') continue;
    hosts.push({ hostname: url.hostname.toLowerCase(), port: url.port || (url.protocol === 'https:' ? '443' : '80') });
  }
  return hosts;
}

export function isServedHost(host: string | undefined, served: readonly ServedHost[]): boolean {
  const match = host === undefined ? null : HOST_HEADER.exec(host);
  if (match?.groups === undefined) return false;
  const name = match.groups.name!.toLowerCase();
  const port = match.groups.port;
  if (isLoopback(name)) return true;
  // A Host without a port means the scheme's default one; both forms of the audience's own port are accepted.
  return served.some((s) => s.hostname === name && (port === undefined || port === s.port));
}

/** localhost, 127.0.0.0/8 and [::1]: development and probes on the machine itself. */
function isLoopback(name: string): boolean {
  if (name === 'localhost' || name === '[::1]') return true;
  return isIP(name) === 4 && name.startsWith('127.');
}
