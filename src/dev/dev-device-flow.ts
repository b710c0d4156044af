import { randomBytes, randomInt, timingSafeEqual } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { escapeHtml, page, send, sendHtml } from './dev-http.js';

/** RFC 8628's grant type at the token endpoint. */
export const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

/** User codes as Entra shows them: letters and digits that cannot be mistaken for one another. */
const USER_CODE_ALPHABET = 'BCDFGHJKLMNPQRSTVWXZ23456789';

/**
 * A pipeline's app registration in the development tenant (client credentials, app-only tokens with an app role, as an
 * admin's automation in Entra). Its secret is new at every start of the issuer.
 */
export const DEV_PIPELINE_APP = { clientId: 'dke-dev-pipeline', oid: '00000000-0000-4000-8000-0000000d0e01', roles: ['DKE.Admin'] } as const;

/** What the flow asks the issuer to sign: Entra's claims of a user (`upn`) or of an app (`extraClaims`). */
export interface FlowTokenRequest {
  readonly audience: string;
  readonly upn?: string;
  readonly oid?: string;
  readonly roles: readonly string[];
  readonly lifetimeSeconds: number;
  readonly extraClaims?: Readonly<Record<string, unknown>>;
}

export interface DeviceFlowDeps {
  /** The tenant's authority (`http://127.0.0.1:PORT/TENANT`), known once the issuer listens. */
  readonly authority: () => string;
  readonly users: readonly { readonly upn: string; readonly roles: readonly string[] }[];
  readonly issueToken: (request: FlowTokenRequest) => Promise<string>;
}

interface DeviceCode {
  readonly clientId: string;
  readonly scope: string;
  readonly userCode: string;
  readonly expiresAt: number;
  intervalMs: number;
  lastPollAt: number;
  user?: { readonly upn: string; readonly roles: readonly string[] };
}

interface RefreshGrant {
  readonly clientId: string;
  readonly scope: string;
  readonly upn: string;
  readonly roles: readonly string[];
}

/** As Entra: the resource of the `.default` scope asked for, else the client itself. */
export function tokenAudience(scope: string, clientId: string): string {
  return scope.split(' ').find((s) => s.endsWith('/.default'))?.slice(0, -'/.default'.length) ?? clientId;
}

/**
 * FOR DEVELOPMENT AND TESTS ONLY. The development issuer's device authorization grant (RFC 8628, as Entra runs it for
 * `dke login`), refresh tokens (rotated at each use) and a pipeline app's client credentials. The verification page
 * offers each development user as a button named by its UPN, as the console's sign-in page does.
 */
export class DevDeviceFlow {
  /** The polling interval the device code answer asks for, in seconds (Entra: 5; `dke dev` and tests ask for 1). */
  pollSeconds = 5;
  /** How long a device code waits for someone to sign in with it (Entra: 15 minutes). */
  codeLifetimeSeconds = 900;
  /** Access token lifetime of this flow's answers. */
  lifetimeSeconds = 3600;
  /** The secret of DEV_PIPELINE_APP for this start of the issuer. */
  readonly pipelineSecret = randomBytes(24).toString('base64url');
  readonly #deps: DeviceFlowDeps;
  readonly #devices = new Map<string, DeviceCode>();
  readonly #refreshTokens = new Map<string, RefreshGrant>();

  constructor(deps: DeviceFlowDeps) {
    this.#deps = deps;
  }

  get deviceAuthorizationUrl(): string {
    return `${this.#deps.authority()}/oauth2/v2.0/devicecode`;
  }

  /** Where a person enters the user code (Entra: https://microsoft.com/devicelogin). */
  get verificationUrl(): string {
    return `${this.#deps.authority()}/oauth2/v2.0/deviceauth`;
  }

  /** POST …/devicecode: a device code for the CLI, a user code for the person. */
  start(form: URLSearchParams, res: ServerResponse): void {
    const clientId = form.get('client_id') ?? '';
    if (clientId === '') return send(res, 400, { error: 'invalid_request', error_description: 'client_id is required' });
    const deviceCode = randomBytes(32).toString('base64url');
    const userCode = Array.from({ length: 8 }, () => USER_CODE_ALPHABET[randomInt(USER_CODE_ALPHABET.length)]).join('').replace(/^(.{4})/, '$1-');
    this.#devices.set(deviceCode, { clientId, scope: form.get('scope') ?? '', userCode, expiresAt: Date.now() + this.codeLifetimeSeconds * 1000, intervalMs: this.pollSeconds * 1000, lastPollAt: 0 });
    send(res, 200, {
      device_code: deviceCode,
      user_code: userCode,
      verification_uri: this.verificationUrl,
      expires_in: this.codeLifetimeSeconds,
      interval: this.pollSeconds,
      message: `To sign in, use a web browser to open the page ${this.verificationUrl} and enter the code ${userCode} to authenticate.`,
    });
  }

  /** GET …/deviceauth: the code (filled in from `user_code` if given) and one button per development user. */
  verificationPage(query: URLSearchParams, res: ServerResponse): void {
    const buttons = this.#deps.users.map((user) => `<li><button type="submit" name="login_hint" value="${escapeHtml(user.upn)}">${escapeHtml(user.upn)}</button> <span>${escapeHtml(user.roles.join(', '))}</span></li>`).join('');
    sendHtml(
      res,
      200,
      page(
        'Sign in a device: development tenant',
        `<p>DEVELOPMENT token issuer (never for production). Enter the code the command printed, then pick the user to sign in as:</p><form method="post" action="${escapeHtml(new URL(this.verificationUrl).pathname)}"><label>Code <input name="user_code" value="${escapeHtml(query.get('user_code') ?? '')}" autocomplete="off"></label><ul>${buttons}</ul></form>`,
      ),
    );
  }

  /** POST …/deviceauth: the person chose a user for a code; the CLI's next poll gets the tokens. */
  verify(form: URLSearchParams, res: ServerResponse): void {
    const typed = normalCode(form.get('user_code') ?? '');
    const device = [...this.#devices.values()].find((d) => normalCode(d.userCode) === typed && d.expiresAt > Date.now());
    const user = this.#deps.users.find((u) => u.upn === form.get('login_hint'));
    if (device === undefined || user === undefined || device.user !== undefined) {
      return sendHtml(res, 400, page('Sign-in refused', `<p>${device === undefined || device.user !== undefined ? 'Unknown, used or expired code.' : 'Unknown user.'}</p>`));
    }
    device.user = user;
    sendHtml(res, 200, page('Signed in', `<p>You signed in as ${escapeHtml(user.upn)}. Return to the command line; you may close this page.</p>`));
  }

  /** The token endpoint's grants besides the console's authorization code. */
  async token(form: URLSearchParams, res: ServerResponse, headers: Record<string, string>): Promise<void> {
    const grant = form.get('grant_type');
    if (grant === DEVICE_CODE_GRANT) return this.#deviceToken(form, res, headers);
    if (grant === 'refresh_token') return this.#refresh(form, res, headers);
    if (grant === 'client_credentials') return this.#appToken(form, res, headers);
    send(res, 400, { error: 'unsupported_grant_type' }, headers);
  }

  async #deviceToken(form: URLSearchParams, res: ServerResponse, headers: Record<string, string>): Promise<void> {
    const code = form.get('device_code') ?? '';
    const device = this.#devices.get(code);
    if (device === undefined || device.clientId !== form.get('client_id')) return send(res, 400, { error: 'invalid_grant', error_description: 'unknown or used device_code' }, headers);
    if (device.expiresAt <= Date.now()) {
      this.#devices.delete(code);
      return send(res, 400, { error: 'expired_token' }, headers);
    }
    // RFC 8628 §3.5: a client polling faster than the interval is told to slow down, and the interval grows by 5 s.
    const now = Date.now();
    const early = now - device.lastPollAt < device.intervalMs * 0.8;
    device.lastPollAt = now;
    if (early) {
      device.intervalMs += 5000;
      return send(res, 400, { error: 'slow_down' }, headers);
    }
    if (device.user === undefined) return send(res, 400, { error: 'authorization_pending' }, headers);
    this.#devices.delete(code);
    await this.#userTokens({ clientId: device.clientId, scope: device.scope, upn: device.user.upn, roles: device.user.roles }, res, headers);
  }

  async #refresh(form: URLSearchParams, res: ServerResponse, headers: Record<string, string>): Promise<void> {
    const token = form.get('refresh_token') ?? '';
    const grant = this.#refreshTokens.get(token);
    // Each refresh token is used once: the answer carries its successor.
    this.#refreshTokens.delete(token);
    if (grant === undefined || grant.clientId !== form.get('client_id')) return send(res, 400, { error: 'invalid_grant', error_description: 'unknown, used or foreign refresh_token' }, headers);
    await this.#userTokens(grant, res, headers);
  }

  async #userTokens(grant: RefreshGrant, res: ServerResponse, headers: Record<string, string>): Promise<void> {
    const accessToken = await this.#deps.issueToken({ audience: tokenAudience(grant.scope, grant.clientId), upn: grant.upn, roles: grant.roles, lifetimeSeconds: this.lifetimeSeconds });
    const refresh = grant.scope.split(' ').includes('offline_access') ? randomBytes(32).toString('base64url') : undefined;
    if (refresh !== undefined) this.#refreshTokens.set(refresh, grant);
    send(res, 200, { token_type: 'Bearer', access_token: accessToken, expires_in: this.lifetimeSeconds, scope: grant.scope, ...(refresh !== undefined ? { refresh_token: refresh } : {}) }, headers);
  }

  async #appToken(form: URLSearchParams, res: ServerResponse, headers: Record<string, string>): Promise<void> {
    const secret = Buffer.from(form.get('client_secret') ?? '');
    const expected = Buffer.from(this.pipelineSecret);
    const known = form.get('client_id') === DEV_PIPELINE_APP.clientId && secret.length === expected.length && timingSafeEqual(secret, expected);
    if (!known) return send(res, 401, { error: 'invalid_client' }, headers);
    const scope = form.get('scope') ?? '';
    // As Entra's client credentials tokens: no user, no scp, idtyp app, the application's id in appid.
    const accessToken = await this.#deps.issueToken({
      audience: tokenAudience(scope, DEV_PIPELINE_APP.clientId),
      oid: DEV_PIPELINE_APP.oid,
      roles: DEV_PIPELINE_APP.roles,
      lifetimeSeconds: this.lifetimeSeconds,
      extraClaims: { upn: undefined, unique_name: undefined, scp: undefined, idtyp: 'app', appid: DEV_PIPELINE_APP.clientId },
    });
    send(res, 200, { token_type: 'Bearer', access_token: accessToken, expires_in: this.lifetimeSeconds }, headers);
  }
}

function normalCode(code: string): string {
  return code.toUpperCase().replace(/[^A-Z0-9]/g, '');
}
