import { readFileSync } from 'node:fs';
import { AdminRefused } from '../../app/admin-vocabulary.js';
import { adminClientSettings } from '../../main/settings.js';
import { field, postForm, requestJson } from './http-json.js';
import { cachedSignIn, saveSignIn, type CachedSignIn } from './token-cache.js';

/** The grant type of RFC 8628's token request. */
const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
/** A token this close to its end is refreshed before use. */
const EXPIRY_MARGIN_MS = 60_000;

/** Where and as what the CLI signs in to one admin API, discovered from the service itself. */
export interface SignInEndpoints {
  readonly clientId: string;
  readonly scope: string;
  readonly tokenUrl: string;
  readonly deviceUrl: string | undefined;
}

/** What a token endpoint answered, checked. */
interface TokenAnswer {
  readonly accessToken: string;
  readonly expiresAt: number;
  readonly refreshToken?: string;
}

/**
 * The service names its issuer to anyone (GET /admin/config.json, what the console reads before it signs in: the
 * authority, the public client id and the admin API's scope); the authority's OpenID metadata names its token and
 * device authorization endpoints. DKE_ADMIN_CLIENT_ID names another client (a pipeline's app registration).
 */
export async function discoverSignIn(server: string): Promise<SignInEndpoints> {
  const settings = await requestJson(`${server}/admin/config.json`, { headers: { accept: 'application/json' } });
  const authority = field(settings.body, 'authority');
  const scope = field(settings.body, 'scope');
  if (settings.status !== 200 || authority === undefined || scope === undefined) {
    throw new AdminRefused(`${server} does not answer as a dke-service admin listener (GET /admin/config.json answered ${settings.status}); give the URL of its DKE_ADMIN_PORT.`);
  }
  const clientId = adminClientSettings().clientId ?? field(settings.body, 'clientId');
  if (clientId === undefined) throw new AdminRefused(`${server} names no client id to sign in with: set DKE_ADMIN_CLIENT_ID on the service (the console's app registration) or here.`);
  const metadata = await requestJson(`${authority}/v2.0/.well-known/openid-configuration`, { headers: { accept: 'application/json' } });
  const tokenUrl = field(metadata.body, 'token_endpoint');
  if (metadata.status !== 200 || tokenUrl === undefined) throw new AdminRefused(`The issuer ${new URL(authority).origin} named by ${server} answered no OpenID metadata (${metadata.status}).`);
  return { clientId, scope, tokenUrl, deviceUrl: field(metadata.body, 'device_authorization_endpoint') };
}

/**
 * `dke login`: the device authorization grant (RFC 8628). Asks for a user code, says where to enter it, polls the token
 * endpoint at the interval the issuer asks for (slower after `slow_down`) until someone signs in, the code expires or
 * the sign-in is declined, then caches the tokens for this admin API. Returns who signed in.
 */
export async function deviceSignIn(server: string, say: (line: string) => void): Promise<string> {
  const endpoints = await discoverSignIn(server);
  if (endpoints.deviceUrl === undefined) throw new AdminRefused(`The issuer of ${server} offers no device sign-in (no device_authorization_endpoint); use DKE_ADMIN_CLIENT_SECRET_FILE.`);
  // offline_access: a refresh token, so that one sign-in lasts a working day and more.
  const scope = `${endpoints.scope} offline_access`;
  const started = await postForm(endpoints.deviceUrl, { client_id: endpoints.clientId, scope });
  const deviceCode = field(started.body, 'device_code');
  const userCode = field(started.body, 'user_code');
  const verificationUri = field(started.body, 'verification_uri');
  if (started.status !== 200 || deviceCode === undefined || userCode === undefined || verificationUri === undefined) {
    throw new AdminRefused(`The issuer refused the device sign-in (${field(started.body, 'error') ?? started.status}): ${field(started.body, 'error_description') ?? 'no reason given'}.`);
  }
  say(`To sign in to ${server}, open ${verificationUri} and enter the code ${userCode}.`);
  let intervalMs = Number(field(started.body, 'interval') ?? 5) * 1000;
  const deadline = Date.now() + Number(field(started.body, 'expires_in') ?? 900) * 1000;
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
    const answer = await postForm(endpoints.tokenUrl, { grant_type: DEVICE_CODE_GRANT, client_id: endpoints.clientId, device_code: deviceCode });
    const error = field(answer.body, 'error');
    if (answer.status === 200) return cacheTokens(server, endpoints, scope, tokenAnswer(answer.body));
    if (error === 'authorization_pending' && Date.now() < deadline) continue;
    if (error === 'slow_down') {
      intervalMs += 5000;
      continue;
    }
    if (error === 'authorization_pending' || error === 'expired_token') throw new AdminRefused('The code expired before anyone signed in with it; run "dke login" again.');
    if (error === 'access_denied' || error === 'authorization_declined') throw new AdminRefused('The sign-in was declined; nothing was cached.');
    throw new AdminRefused(`The issuer refused the sign-in (${error ?? answer.status}); nothing was cached.`);
  }
}

function cacheTokens(server: string, endpoints: SignInEndpoints, scope: string, tokens: TokenAnswer): string {
  const who = tokenSubject(tokens.accessToken);
  saveSignIn(server, { ...tokens, tokenUrl: endpoints.tokenUrl, clientId: endpoints.clientId, scope, ...(who !== undefined ? { who } : {}) });
  return who ?? 'the signed-in user';
}

/** Client credentials of a pipeline, kept for this process only: never written to the cache. */
let appToken: { readonly server: string; readonly token: TokenAnswer } | undefined;

/**
 * The bearer token for a call to `server`: a pipeline's client credential when DKE_ADMIN_CLIENT_SECRET_FILE is set,
 * else the cached sign-in, refreshed when it is about to end (or when `stale`: the API refused it).
 */
export async function bearerFor(server: string, stale = false): Promise<string> {
  const secretFile = adminClientSettings().clientSecretFile;
  if (secretFile !== undefined) {
    if (stale || appToken?.server !== server || appToken.token.expiresAt - EXPIRY_MARGIN_MS < Date.now()) appToken = { server, token: await clientCredentials(server, secretFile) };
    return appToken.token.accessToken;
  }
  const cached = cachedSignIn(server);
  if (cached === undefined) throw new AdminRefused(`Not signed in to ${server}: run "dke login --server ${server}" first (a pipeline sets DKE_ADMIN_CLIENT_SECRET_FILE instead).`);
  if (!stale && cached.expiresAt - EXPIRY_MARGIN_MS > Date.now()) return cached.accessToken;
  return (await refreshed(server, cached)).accessToken;
}

/** A new access token (and refresh token, which the issuer may rotate) for a cached sign-in. */
async function refreshed(server: string, cached: CachedSignIn): Promise<CachedSignIn> {
  const expired = new AdminRefused(`The sign-in to ${server}${cached.who !== undefined ? ` as ${cached.who}` : ''} has expired: run "dke login --server ${server}" again.`);
  if (cached.refreshToken === undefined) throw expired;
  const answer = await postForm(cached.tokenUrl, { grant_type: 'refresh_token', client_id: cached.clientId, refresh_token: cached.refreshToken, scope: cached.scope });
  if (answer.status !== 200) throw expired;
  const tokens = tokenAnswer(answer.body);
  const renewed: CachedSignIn = { ...cached, ...tokens, refreshToken: tokens.refreshToken ?? cached.refreshToken };
  saveSignIn(server, renewed);
  return renewed;
}

async function clientCredentials(server: string, secretFile: string): Promise<TokenAnswer> {
  let secret: string;
  try {
    secret = readFileSync(secretFile, 'utf8').trim();
  } catch (error) {
    throw new AdminRefused(`DKE_ADMIN_CLIENT_SECRET_FILE cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'}).`);
  }
  if (adminClientSettings().clientId === undefined) throw new AdminRefused("DKE_ADMIN_CLIENT_SECRET_FILE needs DKE_ADMIN_CLIENT_ID: the pipeline's application (client) id.");
  const endpoints = await discoverSignIn(server);
  const answer = await postForm(endpoints.tokenUrl, { grant_type: 'client_credentials', client_id: endpoints.clientId, client_secret: secret, scope: endpoints.scope });
  if (answer.status !== 200) throw new AdminRefused(`The issuer refused the client credential of ${endpoints.clientId} (${field(answer.body, 'error') ?? answer.status}).`);
  return tokenAnswer(answer.body);
}

function tokenAnswer(body: unknown): TokenAnswer {
  const accessToken = field(body, 'access_token');
  if (accessToken === undefined) throw new AdminRefused('The issuer answered no access token.');
  const refreshToken = field(body, 'refresh_token');
  return { accessToken, expiresAt: Date.now() + Number(field(body, 'expires_in') ?? 3600) * 1000, ...(refreshToken !== undefined ? { refreshToken } : {}) };
}

/** Who a token names (upn, preferred_username, else the app), read for a sentence only: the API verifies it. */
function tokenSubject(token: string): string | undefined {
  try {
    const claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
    const app = claims.azp ?? claims.appid;
    const name = claims.upn ?? claims.preferred_username ?? (app !== undefined ? `app:${String(app)}` : undefined);
    return typeof name === 'string' ? name : undefined;
  } catch {
    return undefined;
  }
}
