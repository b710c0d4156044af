import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose';
import { DevDeviceFlow, tokenAudience } from './dev-device-flow.js';
import { escapeHtml, page, readForm, send, sendHtml } from './dev-http.js';

/** A tenant id used only by the development issuer. */
export const DEV_TENANT_ID = '00000000-0000-4000-8000-00000000d0e0';

/**
 * The people of the development tenant who can sign in to the console (contract §7), with the app roles Entra would
 * put in their tokens after an admin assigned them.
 */
export const DEV_CONSOLE_USERS: readonly { readonly upn: string; readonly roles: readonly string[] }[] = [
  { upn: 'admin@contoso.dev', roles: ['DKE.Admin'] },
  { upn: 'approver@contoso.dev', roles: ['DKE.Admin'] },
  { upn: 'auditor@contoso.dev', roles: ['DKE.Auditor'] },
];

/** How long an authorization code may wait for its exchange (Entra: about 10 minutes; here one is plenty). */
const CODE_LIFETIME_MS = 60_000;

/** What the sign-in page was asked for; the token endpoint checks the exchange against it. */
interface AuthorizationRequest {
  readonly clientId: string;
  readonly redirectUri: string;
  readonly codeChallenge: string;
  readonly scope: string;
  readonly state: string;
}

interface IssuedCode extends AuthorizationRequest {
  readonly upn: string;
  readonly roles: readonly string[];
  readonly expiresAt: number;
}

/** An RS256 key pair an issuer signs with. */
export interface SigningKeyPair {
  readonly privateKey: CryptoKey;
  readonly publicKey: CryptoKey;
}

/** A fresh RS256 pair (its public half is exported as a JWK, hence extractable). */
export function newSigningKeyPair(): Promise<SigningKeyPair> {
  return generateKeyPair('RS256', { extractable: true });
}

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
  readonly #codes = new Map<string, IssuedCode>();
  readonly tenantId: string;
  /** `dke login`'s device code sign-in, refresh tokens and a pipeline's client credentials (dev-device-flow.ts). */
  readonly deviceFlow: DevDeviceFlow;

  /** The first signing key's pair, when the caller brings one (see the constructor). */
  readonly #firstKeyPair: Promise<SigningKeyPair> | undefined;

  /**
   * `firstKeyPair`: the pair the first signing key uses instead of a fresh one. A test run starts a hundred issuers,
   * and an RSA-2048 generation costs about 0.15 s of CPU each; each issuer still gets a `kid` of its own, so another
   * issuer's token is refused as a token from an unknown key.
   */
  constructor(tenantId: string = DEV_TENANT_ID, firstKeyPair?: Promise<SigningKeyPair>) {
    this.tenantId = tenantId;
    this.#firstKeyPair = firstKeyPair;
    this.deviceFlow = new DevDeviceFlow({ authority: () => this.authority, users: DEV_CONSOLE_USERS, issueToken: (request) => this.issueToken({ ...request, roles: [...request.roles], extraClaims: request.extraClaims }) });
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

  /** The tenant's authority, as Entra's `https://login.microsoftonline.com/{tenant}`: the console appends /oauth2/v2.0/… */
  get authority(): string {
    return `${this.#baseUrl}/${this.tenantId}`;
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
    const { privateKey, publicKey } = this.#keys.length === 0 && this.#firstKeyPair !== undefined ? await this.#firstKeyPair : await newSigningKeyPair();
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
    if (path === `/${this.tenantId}/oauth2/v2.0/authorize`) {
      if (req.method === 'GET') return this.#signInPage(new URL(req.url ?? '/', this.#baseUrl).searchParams, res);
      if (req.method === 'POST') return void readForm(req).then((form) => this.#signIn(form, res), () => send(res, 413, { error: 'invalid_request' }));
    }
    if (path === `/${this.tenantId}/oauth2/v2.0/deviceauth`) {
      if (req.method === 'GET') return this.deviceFlow.verificationPage(new URL(req.url ?? '/', this.#baseUrl).searchParams, res);
      if (req.method === 'POST') return void readForm(req).then((form) => this.deviceFlow.verify(form, res), () => send(res, 413, { error: 'invalid_request' }));
    }
    if (req.method === 'POST' && path === `/${this.tenantId}/oauth2/v2.0/devicecode`) {
      return void readForm(req).then((form) => this.deviceFlow.start(form, res), () => send(res, 413, { error: 'invalid_request' }));
    }
    if (req.method === 'POST' && path === `/${this.tenantId}/oauth2/v2.0/token`) {
      return void readForm(req).then((form) => this.#exchange(form, req, res), () => send(res, 413, { error: 'invalid_request' }));
    }
    if (req.method === 'GET' && path === `/${this.tenantId}/v2.0/.well-known/openid-configuration`) {
      this.#requests.metadata += 1;
      if (!this.#metadataAvailable) return send(res, 503, { error: 'temporarily_unavailable' });
      return send(res, 200, {
        issuer: this.v2Issuer(),
        jwks_uri: this.jwksUrl,
        id_token_signing_alg_values_supported: ['RS256'],
        authorization_endpoint: `${this.authority}/oauth2/v2.0/authorize`,
        token_endpoint: `${this.authority}/oauth2/v2.0/token`,
        device_authorization_endpoint: this.deviceFlow.deviceAuthorizationUrl,
      });
    }
    if (req.method === 'GET' && path === '/discovery/v2.0/keys') {
      this.#requests.jwks += 1;
      if (!this.#jwksAvailable) return send(res, 503, { error: 'temporarily_unavailable' });
      return send(res, 200, this.#keySetOverride ?? { keys: this.#keys.map((k) => k.publicJwk) });
    }
    return send(res, 404, { error: 'not_found' });
  }

  /** The authorize endpoint's page: one button per development user, named by its UPN (no password: development only). */
  #signInPage(query: URLSearchParams, res: ServerResponse): void {
    const request = authorizationRequest(query);
    if (typeof request === 'string') return sendHtml(res, 400, page('Sign-in refused', `<p>${escapeHtml(request)}</p>`));
    const hidden = Object.entries({ client_id: request.clientId, redirect_uri: request.redirectUri, code_challenge: request.codeChallenge, code_challenge_method: 'S256', scope: request.scope, state: request.state, response_type: 'code' })
      .map(([name, value]) => `<input type="hidden" name="${name}" value="${escapeHtml(value)}">`)
      .join('');
    const buttons = DEV_CONSOLE_USERS.map((user) => `<li><button type="submit" name="login_hint" value="${escapeHtml(user.upn)}">${escapeHtml(user.upn)}</button> <span>${escapeHtml(user.roles.join(', '))}</span></li>`).join('');
    sendHtml(
      res,
      200,
      page(
        'Sign in: development tenant',
        `<p>DEVELOPMENT token issuer (never for production). Pick the user to sign in as:</p><form method="post" action="/${this.tenantId}/oauth2/v2.0/authorize">${hidden}<ul>${buttons}</ul></form>`,
      ),
    );
  }

  #signIn(form: URLSearchParams, res: ServerResponse): void {
    const request = authorizationRequest(form);
    const user = DEV_CONSOLE_USERS.find((u) => u.upn === form.get('login_hint'));
    if (typeof request === 'string' || user === undefined) return sendHtml(res, 400, page('Sign-in refused', `<p>${escapeHtml(typeof request === 'string' ? request : 'Unknown user.')}</p>`));
    const code = randomBytes(24).toString('base64url');
    this.#codes.set(code, { ...request, upn: user.upn, roles: user.roles, expiresAt: Date.now() + CODE_LIFETIME_MS });
    const target = new URL(request.redirectUri);
    target.searchParams.set('code', code);
    target.searchParams.set('state', request.state);
    res.writeHead(302, { location: target.toString() });
    res.end();
  }

  /** The token endpoint: a code is used once, by the client and redirect URI it was issued to, with the PKCE verifier. */
  async #exchange(form: URLSearchParams, req: IncomingMessage, res: ServerResponse): Promise<void> {
    // A single-page application calls this cross-origin, as Entra allows for SPA redirect URIs.
    const cors = { 'access-control-allow-origin': req.headers.origin ?? '*' };
    if (form.get('grant_type') !== 'authorization_code') return this.deviceFlow.token(form, res, cors);
    const code = form.get('code') ?? '';
    const issued = this.#codes.get(code);
    this.#codes.delete(code);
    const verifier = form.get('code_verifier') ?? '';
    const problem =
      issued === undefined || issued.expiresAt < Date.now()
        ? 'unknown, used or expired code'
        : issued.clientId !== form.get('client_id') || issued.redirectUri !== form.get('redirect_uri')
          ? 'client_id or redirect_uri differs from the authorization request'
          : createHash('sha256').update(verifier).digest('base64url') !== issued.codeChallenge
            ? 'code_verifier does not match the code_challenge'
            : undefined;
    if (problem !== undefined || issued === undefined) return send(res, 400, { error: 'invalid_grant', error_description: problem }, cors);
    // As Entra: a token for the resource of the `.default` scope asked for, with the user's assigned app roles.
    const audience = tokenAudience(issued.scope, issued.clientId);
    const accessToken = await this.issueToken({ audience, upn: issued.upn, roles: issued.roles, lifetimeSeconds: 3600 });
    send(res, 200, { token_type: 'Bearer', access_token: accessToken, expires_in: 3600, scope: issued.scope }, cors);
  }
}

/** The parameters of an authorization request, or why they are refused (PKCE with S256 and a loopback redirect only). */
function authorizationRequest(query: URLSearchParams): AuthorizationRequest | string {
  const value = (name: string): string => query.get(name) ?? '';
  if (value('response_type') !== 'code') return 'response_type must be code.';
  if (value('code_challenge_method') !== 'S256' || !/^[A-Za-z0-9_-]{43}$/.test(value('code_challenge'))) return 'PKCE with code_challenge_method S256 is required.';
  if (value('client_id') === '') return 'client_id is required.';
  let redirect: URL;
  try {
    redirect = new URL(value('redirect_uri'));
  } catch {
    return 'redirect_uri must be a URL.';
  }
  if (!['127.0.0.1', 'localhost', '[::1]'].includes(redirect.hostname)) return 'The development issuer redirects to loopback addresses only.';
  return { clientId: value('client_id'), redirectUri: value('redirect_uri'), codeChallenge: value('code_challenge'), scope: value('scope'), state: value('state') };
}

/** A stable object id per user name, so repeated dev tokens name the same user. */
function randomUUIDFor(upn: string): string {
  let h = 0;
  for (const c of upn) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  const hex = h.toString(16).padStart(8, '0');
  return `${hex}-0000-4000-8000-${hex}0000`;
}
