import { EntraTokenVerifier } from '../auth/entra-token-verifier.js';
import { OpenIdKeySource } from '../auth/openid-key-source.js';
import { VerifiedTokenCache } from '../auth/verified-token-cache.js';
import type { Config } from '../config/config.js';
import type { Logger, TokenVerifier } from '../keys/ports.js';
import type { ServiceMetrics } from '../metrics/service-metrics.js';

export interface ServiceVerifiers {
  /** The issuer's signing keys (OpenID metadata), shared by both verifiers and watched by readiness. */
  readonly keySource: OpenIdKeySource;
  /** Tokens of the DKE endpoints (DKE_AUTH_AUDIENCE). */
  readonly verifier: TokenVerifier;
  /** Tokens of the admin API (DKE_ADMIN_AUDIENCE). */
  readonly adminVerifier: TokenVerifier;
}

/** The issuer's keys, loaded once before the service serves, and the token verifiers of both listeners. */
export async function openVerifiers(config: Config, logger: Logger, metrics: ServiceMetrics): Promise<ServiceVerifiers> {
  const keySource = new OpenIdKeySource({
    metadataUrl: config.auth.metadataUrl,
    proxy: config.outboundProxy,
    onRefresh: (ok, detail) => {
      metrics.jwksRefresh(ok);
      if (ok) logger.info('issuer keys loaded', { detail });
      else logger.warn('issuer keys refresh failed', { detail });
    },
  });
  await keySource.refresh();
  const overageLogged = new Set<string>();
  const entraVerifier = new EntraTokenVerifier(config.auth, keySource, (oid) => {
    if (overageLogged.has(oid)) return;
    overageLogged.add(oid);
    logger.warn('group overage: the token lists no groups; group grants do not apply to this user', { oid });
  });
  const verifier: TokenVerifier = new VerifiedTokenCache(entraVerifier);
  const adminVerifier: TokenVerifier = new VerifiedTokenCache(new EntraTokenVerifier({ ...config.auth, audiences: config.adminAudiences }, keySource, undefined, 'admin'));
  return { keySource, verifier, adminVerifier };
}
