import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose';

/** A tenant id used only by the development issuer. */
export const DEV_TENANT_ID = '00000000-0000-4000-8000-00000000d0e0';

interface SigningKey {
  readonly kid: string;
  readonly privateKey: CryptoKey;
  readonly publicJwk: JWK;
}

export interface DevTokenOptions {
  readonly audience: string;
  readonly upn?: string;
  readonly oid?: string;
  readonly scope?: string;
  readonly groups?: readonly string[];
  readonly roles?: readonly string[];
  readonly lifetimeSeconds?: number;
  /** v1 (sts.windows.net) or v2 (login.microsoftonline.com) issuer form. */
  readonly issuerVersion?: 1 | 2;
  readonly extraClaims?: JWTPayload;
}

/**
 * FOR DEVELOPMENT AND TESTS ONLY. A stand-in for Entra ID on loopback that speaks its wire format: an OpenID
 * metadata document naming a JWKS, RS256 keys with `kid`, and access tokens with Entra's claims (iss in the v1 or v2
 * form of a tenant, tid, oid, upn, scp, aud). Only the keys differ from Entra's, so the service's verification path is
 * the production one.
 */
export class DevTokenIssuer {
  #server: Server | undefined;
  #keys: SigningKey[] = [];
  #baseUrl = '';
  #metadataAvailable = true;
  #jwksAvailable = true;
  #keySetOverride: unknown;
  readonly #requests = { metadata: 0, jwks: 0 };
  readonly tenantId: string;

  constructor(tenantId: string = DEV_TENANT_ID) {
    this.tenantId = tenantId;
  }

  get metadataUrl(): string {
    return `${this.#baseUrl}/${this.tenantId}/v2.0/.well-known/openid-configuration`;
  }

  get jwksUrl(): string {
    return `${this.#baseUrl}/discovery/v2.0/keys`;
  }

  v1Issuer(tenantId = this.tenantId): string {
    return `https://sts.windows.net/${tenantId}/`;
  }

  v2Issuer(tenantId = this.tenantId): string {
    return `https://login.microsoftonline.com/${tenantId}/v2.0`;
  }

  get currentKey(): SigningKey {
    return this.#keys[this.#keys.length - 1]!;
  }

  /** Listens on 127.0.0.1 only. */
  async start(port = 0): Promise<void> {
    if (this.#keys.length === 0) await this.rotateKey();
    this.#server = createServer((req, res) => this.#handle(req, res));
    await new Promise<void>((resolve, reject) => {
      this.#server!.once('error', reject);
      this.#server!.listen(port, '127.0.0.1', () => resolve());
    });
    const { port: bound } = this.#server.address() as AddressInfo;
    this.#baseUrl = `http://127.0.0.1:${bound}`;
  }

  async stop(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    if (server === undefined) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Adds a new signing key and signs with it from now on; `keep` old keys stay published (as Entra overlaps keys). */
  async rotateKey(keep = 1): Promise<SigningKey> {
    const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
    const kid = randomUUID();
    const publicJwk = { ...(await exportJWK(publicKey)), kid, use: 'sig', alg: 'RS256' };
    const key = { kid, privateKey, publicJwk };
    this.#keys = [...this.#keys.slice(-keep), key];
    return key;
  }

  /** Simulates an outage (503) of the metadata and JWKS endpoints, or of one of them, for tests of cached keys. */
  setAvailable(available: boolean, endpoint: 'metadata' | 'jwks' | 'both' = 'both'): void {
    if (endpoint !== 'jwks') this.#metadataAvailable = available;
    if (endpoint !== 'metadata') this.#jwksAvailable = available;
  }

  /**
   * Fault injection for tests: the JWKS endpoint answers 200 with `body` instead of the real keys (an empty set, a
   * broken modulus), until called again with undefined.
   */
  answerKeySetWith(body: unknown): void {
    this.#keySetOverride = body;
  }

  /** How many requests each endpoint has received (tests count key refreshes with it). */
  get requestCounts(): { readonly metadata: number; readonly jwks: number } {
    return { ...this.#requests };
  }

  /** An access token as Entra issues it for a user of the Office client. */
  async issueToken(options: DevTokenOptions): Promise<string> {
    const key = this.currentKey;
    const upn = options.upn ?? 'alice@contoso.dev';
    const issuer = options.issuerVersion === 2 ? this.v2Issuer() : this.v1Issuer();
    const claims: JWTPayload = {
      tid: this.tenantId,
      oid: options.oid ?? randomUUIDFor(upn),
      scp: options.scope ?? 'user_impersonation',
      ...(options.issuerVersion === 2 ? { preferred_username: upn, ver: '2.0' } : { upn, unique_name: upn, ver: '1.0' }),
      ...(options.groups ? { groups: [...options.groups] } : {}),
      ...(options.roles ? { roles: [...options.roles] } : {}),
      ...options.extraClaims,
    };
    return new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: key.kid })
      .setIssuer(issuer)
      .setAudience(options.audience)
      .setIssuedAt()
      .setNotBefore('0s')
      .setExpirationTime(`${options.lifetimeSeconds ?? 3600}s`)
      .sign(key.privateKey);
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && path === `/${this.tenantId}/v2.0/.well-known/openid-configuration`) {
      this.#requests.metadata += 1;
      if (!this.#metadataAvailable) return send(res, 503, { error: 'temporarily_unavailable' });
      return send(res, 200, {
        issuer: this.v2Issuer(),
        jwks_uri: this.jwksUrl,
        id_token_signing_alg_values_supported: ['RS256'],
        token_endpoint: `${this.#baseUrl}/${this.tenantId}/oauth2/v2.0/token`,
      });
    }
    if (req.method === 'GET' && path === '/discovery/v2.0/keys') {
      this.#requests.jwks += 1;
      if (!this.#jwksAvailable) return send(res, 503, { error: 'temporarily_unavailable' });
      return send(res, 200, this.#keySetOverride ?? { keys: this.#keys.map((k) => k.publicJwk) });
    }
    return send(res, 404, { error: 'not_found' });
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

/** A stable object id per user name, so repeated dev tokens name the same user. */
function randomUUIDFor(upn: string): string {
  let h = 0;
  for (const c of upn) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  const hex = h.toString(16).padStart(8, '0');
  return `${hex}-0000-4000-8000-${hex}0000`;
}
