/**
 * Sign-in with Entra ID for a single-page application: authorization code with PKCE (RFC 7636, S256). The access
 * token lives in this module's memory only: never in storage, never in the URL; reloading the page or signing out
 * drops it. Only the PKCE verifier and state wait in sessionStorage across the redirect, and are removed on return.
 */
import type { ConsoleSettings } from '../../src/http/console-settings';

export type { ConsoleSettings };

export interface Session {
  readonly token: string;
  readonly name: string;
  readonly oid: string;
  readonly roles: readonly string[];
  readonly expiresAt: number;
}

const PENDING_KEY = 'dke-console-sign-in';

interface PendingSignIn {
  readonly state: string;
  readonly verifier: string;
  readonly returnTo: string;
}

let session: Session | undefined;

export function currentSession(): Session | undefined {
  if (session !== undefined && session.expiresAt <= Date.now()) session = undefined;
  return session;
}

export function signOut(): void {
  session = undefined;
}

export async function loadSettings(): Promise<ConsoleSettings> {
  const answer = await fetch('/admin/config.json', { cache: 'no-store' });
  if (!answer.ok) throw new Error(`The console's settings could not be read (HTTP ${answer.status}).`);
  return (await answer.json()) as ConsoleSettings;
}

function redirectUri(): string {
  return `${location.origin}/admin/`;
}

function randomText(bytes: number): string {
  return base64Url(crypto.getRandomValues(new Uint8Array(bytes)));
}

function base64Url(bytes: Uint8Array): string {
  let text = '';
  for (const byte of bytes) text += String.fromCharCode(byte);
  return btoa(text).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** Sends the browser to the authority's sign-in; it comes back to /admin/ with a code. */
export async function startSignIn(settings: ConsoleSettings): Promise<void> {
  if (settings.clientId === null) throw new Error('Sign-in is not configured: set DKE_ADMIN_CLIENT_ID on the service.');
  const pending: PendingSignIn = { state: randomText(16), verifier: randomText(32), returnTo: location.hash };
  const challenge = base64Url(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(pending.verifier))));
  sessionStorage.setItem(PENDING_KEY, JSON.stringify(pending));
  const url = new URL(settings.authorizeUrl);
  url.search = new URLSearchParams({
    client_id: settings.clientId,
    response_type: 'code',
    redirect_uri: redirectUri(),
    response_mode: 'query',
    scope: settings.scope,
    state: pending.state,
    code_challenge: challenge,
    code_challenge_method: 'S256',
  }).toString();
  location.assign(url.toString());
}

/**
 * On the way back from the authority: exchanges the code for a token (with the verifier) when the state matches,
 * and cleans the code out of the address bar. Undefined when this page load is not a return from sign-in.
 */
export async function finishSignIn(settings: ConsoleSettings): Promise<Session | undefined> {
  const query = new URLSearchParams(location.search);
  const code = query.get('code');
  const error = query.get('error');
  if (code === null && error === null) return undefined;
  const saved = sessionStorage.getItem(PENDING_KEY);
  sessionStorage.removeItem(PENDING_KEY);
  const pending = saved === null ? undefined : (JSON.parse(saved) as PendingSignIn);
  history.replaceState(null, '', `/admin/${pending?.returnTo ?? ''}`);
  if (error !== null) throw new Error(`Sign-in failed: ${query.get('error_description') ?? error}`);
  if (pending === undefined || query.get('state') !== pending.state) throw new Error('Sign-in failed: the answer does not belong to this browser tab. Sign in again.');
  const answer = await fetch(settings.tokenUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      client_id: settings.clientId ?? '',
      grant_type: 'authorization_code',
      code: code ?? '',
      redirect_uri: redirectUri(),
      code_verifier: pending.verifier,
      scope: settings.scope,
    }),
  });
  const body = (await answer.json()) as { access_token?: string; expires_in?: number; error_description?: string; error?: string };
  if (!answer.ok || body.access_token === undefined) throw new Error(`Sign-in failed: ${body.error_description ?? body.error ?? `HTTP ${answer.status}`}`);
  session = sessionOf(body.access_token, body.expires_in ?? 3600);
  return session;
}

/** Who signed in, read from the token for display only: the admin API verifies the token itself on every call. */
function sessionOf(token: string, expiresIn: number): Session {
  const payload = JSON.parse(new TextDecoder().decode(fromBase64Url(token.split('.')[1] ?? ''))) as Record<string, unknown>;
  const text = (name: string): string | undefined => (typeof payload[name] === 'string' ? (payload[name] as string) : undefined);
  return {
    token,
    name: text('upn') ?? text('preferred_username') ?? text('unique_name') ?? text('appid') ?? 'unknown',
    oid: text('oid') ?? '',
    roles: Array.isArray(payload.roles) ? payload.roles.filter((r): r is string => typeof r === 'string') : [],
    expiresAt: Date.now() + expiresIn * 1000,
  };
}

function fromBase64Url(text: string): Uint8Array {
  const binary = atob(text.replace(/-/g, '+').replace(/_/g, '/'));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}
