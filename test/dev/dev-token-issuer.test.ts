// Contract §7 (`dke dev`'s sign-in): the development issuer's authorize endpoint offers each development user as a
// button named by its UPN and redirects back with a code; its token endpoint gives the access token (the user's app
// roles, the audience of the `.default` scope) only for the PKCE verifier of that code, once, to that client and
// redirect URI.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { decodeJwt } from 'jose';
import { after, before, describe, it } from 'mocha';
import { DevTokenIssuer } from '../../src/dev/dev-token-issuer.js';

const REDIRECT = 'http://127.0.0.1:9999/admin/';
const SCOPE = 'http://localhost:8080/.default';

describe('§7 development issuer: sign-in page and PKCE token endpoint', () => {
  const issuer = new DevTokenIssuer();
  before(() => issuer.start());
  after(() => issuer.stop());

  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  const request = (overrides: Record<string, string> = {}) =>
    new URLSearchParams({ client_id: 'console', response_type: 'code', redirect_uri: REDIRECT, scope: SCOPE, state: 'st4te', code_challenge: challenge, code_challenge_method: 'S256', ...overrides });

  async function codeFor(upn: string): Promise<string> {
    const res = await fetch(`${issuer.authority}/oauth2/v2.0/authorize`, { method: 'POST', body: new URLSearchParams({ ...Object.fromEntries(request()), login_hint: upn }), redirect: 'manual' });
    assert.equal(res.status, 302);
    const location = new URL(res.headers.get('location')!);
    assert.equal(`${location.origin}${location.pathname}`, REDIRECT);
    assert.equal(location.searchParams.get('state'), 'st4te');
    return location.searchParams.get('code')!;
  }

  const exchange = (code: string, overrides: Record<string, string> = {}) =>
    fetch(`${issuer.authority}/oauth2/v2.0/token`, {
      method: 'POST',
      headers: { origin: 'http://127.0.0.1:9999' },
      body: new URLSearchParams({ grant_type: 'authorization_code', client_id: 'console', redirect_uri: REDIRECT, code, code_verifier: verifier, ...overrides }),
    });

  it('the sign-in page offers each development user as a button named by its UPN', async () => {
    const res = await fetch(`${issuer.authority}/oauth2/v2.0/authorize?${request().toString()}`);
    assert.equal(res.status, 200);
    const html = await res.text();
    const buttons = [...html.matchAll(/<button type="submit" name="login_hint" value="([^"]+)">([^<]+)<\/button>/g)].map((m) => [m[1], m[2]]);
    assert.deepEqual(buttons, [
      ['admin@contoso.dev', 'admin@contoso.dev'],
      ['approver@contoso.dev', 'approver@contoso.dev'],
      ['auditor@contoso.dev', 'auditor@contoso.dev'],
    ]);
    assert.equal((await fetch(`${issuer.authority}/oauth2/v2.0/authorize?${request({ code_challenge_method: 'plain' }).toString()}`)).status, 400);
    assert.equal((await fetch(`${issuer.authority}/oauth2/v2.0/authorize?${request({ redirect_uri: 'https://evil.example/admin/' }).toString()}`)).status, 400);
  });

  it('the code and its verifier give a token with the user\'s app roles for the scope\'s audience, once', async () => {
    const code = await codeFor('approver@contoso.dev');
    const res = await exchange(code);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('access-control-allow-origin'), 'http://127.0.0.1:9999');
    const body = (await res.json()) as { access_token: string; token_type: string };
    assert.equal(body.token_type, 'Bearer');
    const claims = decodeJwt(body.access_token);
    assert.deepEqual([claims.aud, claims.upn, claims.roles, claims.tid], ['http://localhost:8080', 'approver@contoso.dev', ['DKE.Admin'], issuer.tenantId]);
    assert.deepEqual([(await exchange(code)).status, ((await (await exchange(code)).json()) as { error: string }).error], [400, 'invalid_grant'], 'a code is used once');
    const auditor = decodeJwt(((await (await exchange(await codeFor('auditor@contoso.dev'))).json()) as { access_token: string }).access_token);
    assert.deepEqual(auditor.roles, ['DKE.Auditor']);
  });

  it('a wrong verifier, client or redirect URI gets invalid_grant and no token', async () => {
    for (const overrides of <Record<string, string>[]>[{ code_verifier: randomBytes(32).toString('base64url') }, { code_verifier: '' }, { client_id: 'other' }, { redirect_uri: 'http://127.0.0.1:9999/other/' }]) {
      const res = await exchange(await codeFor('admin@contoso.dev'), overrides);
      const body = (await res.json()) as { error: string; access_token?: string };
      assert.deepEqual([res.status, body.error, body.access_token], [400, 'invalid_grant', undefined], JSON.stringify(overrides));
    }
  });
});
