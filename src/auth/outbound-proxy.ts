import { EnvHttpProxyAgent, type Dispatcher } from 'undici';
import type { OutboundProxyConfig } from './auth-settings.js';

/**
 * The outbound path of the metadata and signing-key fetches: HTTPS_PROXY, HTTP_PROXY and NO_PROXY as curl reads
 * them (Node's own fetch ignores them). https targets are tunnelled with CONNECT; http targets are sent to the proxy
 * in absolute form, as browsers and curl do, so proxies that refuse CONNECT to port 80 still work.
 */
export interface OutboundPath {
  readonly dispatcher: Dispatcher;
  /** "through the proxy http://host:port (HTTPS_PROXY)" for a URL the proxy carries, never with credentials; else "". */
  describe(url: string): string;
}

export function outboundPath(proxy: OutboundProxyConfig): OutboundPath {
  const dispatcher = new EnvHttpProxyAgent({
    // Given explicitly (empty strings when unset) so that configuration, not whatever the process inherited, decides.
    httpProxy: proxy.httpProxy ?? '',
    httpsProxy: proxy.httpsProxy ?? proxy.httpProxy ?? '',
    noProxy: proxy.noProxy ?? '',
    proxyTunnel: false,
  });
  return {
    dispatcher,
    describe: (url) => {
      const chosen = proxyFor(url, proxy);
      return chosen === undefined ? '' : ` through the proxy ${withoutCredentials(chosen.url)} (${chosen.variable})`;
    },
  };
}

/** The proxy a URL goes through, mirroring undici's choice (NO_PROXY entries: `*`, host, `.suffix`, `host:port`). */
export function proxyFor(url: string, proxy: OutboundProxyConfig): { url: string; variable: string } | undefined {
  const target = new URL(url);
  const chosen =
    target.protocol === 'https:'
      ? proxy.httpsProxy !== undefined
        ? { url: proxy.httpsProxy, variable: 'HTTPS_PROXY' }
        : proxy.httpProxy !== undefined
          ? { url: proxy.httpProxy, variable: 'HTTP_PROXY' }
          : undefined
      : proxy.httpProxy !== undefined
        ? { url: proxy.httpProxy, variable: 'HTTP_PROXY' }
        : undefined;
  if (chosen === undefined) return undefined;
  const host = target.hostname.toLowerCase();
  const port = Number(target.port) || (target.protocol === 'https:' ? 443 : 80);
  for (const raw of (proxy.noProxy ?? '').split(/[,\s]/)) {
    const entry = raw.trim().toLowerCase();
    if (entry === '') continue;
    if (entry === '*') return undefined;
    const [, name = '', entryPort] = /^(.*?)(?::(\d+))?$/.exec(entry.replace(/^\*?\./, '')) ?? [];
    if (entryPort !== undefined && Number(entryPort) !== port) continue;
    if (host === name || host.endsWith(`.${name}`)) return undefined;
  }
  return chosen;
}

/** scheme://host:port of a proxy URL: user names and passwords never reach a log or a readiness report. */
export function withoutCredentials(proxyUrl: string): string {
  try {
    return new URL(proxyUrl).origin;
  } catch {
    return '(an unparsable proxy URL)';
  }
}
