/**
 * Contract §1 (401 for a missing or invalid token) and §2 `DKE_AUTH_*` (src/auth/entra-token-verifier.ts, issue 3):
 * real RS256 tokens in Entra's v1 and v2 shapes against a loopback JWKS, and every forgery refused.
 */
import assert from 'node:assert/strict';
import { createPublicKey, type JsonWebKey } from 'node:crypto';
import { exportPKCS8, generateKeyPair, importPKCS8 } from 'jose';
import { after, before, describe, it } from 'mocha';
import { EntraTokenVerifier } from '../../src/auth/entra-token-verifier.js';
import { OpenIdKeySource } from '../../src/auth/openid-key-source.js';
import { cloudOfUrl, PUBLIC_CLOUD } from '../../src/config/entra-clouds.js';
import type { AuthConfig } from '../../src/config/config.js';
import { DevTokenIssuer } from '../../src/dev/dev-token-issuer.js';
import { TokenInvalid } from '../../src/keys/errors.js';
import { AUDIENCE, OTHER_TENANT, compact, rawSigned, signed, v1Claims, v2Claims } from './entra-tokens.js';

/** Expects a TokenInvalid whose log detail names the check that fired (so each case proves its own check). */
async function assertRejected(verifier: EntraTokenVerifier, token: string, reason: RegExp, label = ''): Promise<void> {
  let failure: unknown;
  try {
    await verifier.verify(token);
  } catch (error) {
    failure = error;
  }
  assert.ok(failure instanceof TokenInvalid, `${label}: expected TokenInvalid, got ${String(failure)}`);
  assert.match(failure.detail ?? '', reason, label);
}

describe('auth/entra-token-verifier: Entra tokens as they arrive, and forgeries (issue 3)', () => {
  const issuer = new DevTokenIssuer();
  let keys: OpenIdKeySource;
  let config: AuthConfig;
  let verifier: EntraTokenVerifier;

  const verifierWith = (overrides: Partial<AuthConfig>, source = keys) => new EntraTokenVerifier({ ...config, ...overrides }, source);

  before(async () => {
    await issuer.start();
    keys = new OpenIdKeySource({ metadataUrl: issuer.metadataUrl, cooldownMs: 60_000 });
    await keys.refresh();
    config = {
      audiences: [AUDIENCE, 'api://5c0e1b2a-0000-4000-8000-00000000d6e0'],
      tenantIds: [issuer.tenantId],
      issuers: [],
      metadataUrl: issuer.metadataUrl,
      requiredScope: 'user_impersonation',
      clockSkewSeconds: 120,
      authorizationUrl: 'https://login.windows.net/common/oauth2/authorize',
      cloud: PUBLIC_CLOUD,
    };
    verifier = new EntraTokenVerifier(config, keys);
  });
  after(() => issuer.stop());

  it('issue 3 valid: a v1 token (iss https://sts.windows.net/{tid}/, upn) gives the user principal', async () => {
    const principal = await verifier.verify(await signed(issuer, v1Claims(issuer, { groups: ['6F1E0000-0000-4000-8000-00000000ABCD'] })));
    assert.deepEqual(principal, {
      oid: '1b2c3d4e-0000-4000-8000-00000000a11c',
      tenantId: issuer.tenantId,
      memberUpn: 'alice@contoso.example',
      auditName: 'alice@contoso.example',
      groups: ['6f1e0000-0000-4000-8000-00000000abcd'],
      roles: [],
    });
  });

  it('issue 26: on the admin profile an app-only token (idtyp app, or roles without scp) is marked appOnly; a user token is not', async () => {
    const admin = new EntraTokenVerifier(config, keys, undefined, 'admin');
    const app = { roles: ['DKE.Admin'], scp: undefined, upn: undefined, unique_name: undefined, azp: 'c0ffee00-0000-4000-8000-000000000001' };
    assert.equal((await admin.verify(await signed(issuer, v1Claims(issuer, { ...app, idtyp: 'app' })))).appOnly, true);
    assert.equal((await admin.verify(await signed(issuer, v1Claims(issuer, app)))).appOnly, true, 'no idtyp, roles and no scp');
    const user = await admin.verify(await signed(issuer, v1Claims(issuer, { roles: ['DKE.Admin'] })));
    assert.equal(user.appOnly, undefined);
    assert.equal((await admin.verify(await signed(issuer, v1Claims(issuer, { ...app, idtyp: 'user' })))).appOnly, undefined, 'idtyp user wins');
  });

  it('issue 3 valid: a v2 token (iss https://login.microsoftonline.com/{tid}/v2.0, preferred_username) passes, with no member UPN', async () => {
    const principal = await verifier.verify(await signed(issuer, v2Claims(issuer, { roles: ['DKE.Decrypt'] })));
    assert.equal(principal.memberUpn, undefined, 'preferred_username never decides access (issue 18)');
    assert.equal(principal.auditName, 'alice@contoso.example');
    assert.deepEqual(principal.roles, ['DKE.Decrypt']);
  });

  it('issue 18 guest: a Microsoft-account guest (unique_name live.com#…) is a user known by oid only', async () => {
    const claims = v1Claims(issuer, { upn: undefined, unique_name: 'live.com#guest@outlook.example', email: 'guest@outlook.example', idp: 'live.com' });
    const principal = await verifier.verify(await signed(issuer, claims));
    assert.equal(principal.memberUpn, undefined);
    assert.equal(principal.oid, '1b2c3d4e-0000-4000-8000-00000000a11c');
  });

  it('issue 18: exp, nbf and iat must be whole seconds in range; "exp":1e400 (Infinity to JSON.parse) is refused', async () => {
    const claims = v1Claims(issuer);
    const text = (name: string, raw: string) => JSON.stringify({ ...claims, [name]: 0 }).replace(`"${name}":0`, `"${name}":${raw}`);
    await assertRejected(verifier, rawSigned(issuer, text('exp', '1e400')), /exp is not a whole number/, 'exp 1e400');
    for (const [name, raw] of [['exp', `${claims.exp}.5`], ['nbf', '-1e400'], ['nbf', '-5'], ['iat', '1e400'], ['iat', '"0"'], ['exp', '5e9']]) {
      await assertRejected(verifier, rawSigned(issuer, text(name!, raw!)), new RegExp(`${name} is not a whole number|\\(${name}\\)`), `${name} ${raw}`);
    }
    await verifier.verify(rawSigned(issuer, JSON.stringify(claims)));
  });

  it('issue 3 audiences: every configured value passes, URLs with or without their trailing slash', async () => {
    for (const aud of [AUDIENCE, `${AUDIENCE}/`, 'api://5c0e1b2a-0000-4000-8000-00000000d6e0']) {
      await verifier.verify(await signed(issuer, v1Claims(issuer, { aud })));
    }
    const slashConfigured = verifierWith({ audiences: [`${AUDIENCE}/`] });
    await slashConfigured.verify(await signed(issuer, v1Claims(issuer, { aud: AUDIENCE })));
  });

  it('forgery: wrong audience (look-alike URL, a path under it, a non-URL value twisted) → rejected on aud', async () => {
    for (const aud of [`${AUDIENCE}.evil.example`, `${AUDIENCE}/finance`, `${AUDIENCE}//`, 'api://5c0e1b2a-0000-4000-8000-00000000d6e0/', '']) {
      await assertRejected(verifier, await signed(issuer, v1Claims(issuer, { aud })), /\(aud\)/, aud);
    }
  });

  it('forgery: audience of another app (Graph, another API of the tenant) → rejected on aud', async () => {
    for (const aud of ['https://graph.microsoft.com', '00000003-0000-0000-c000-000000000000', 'api://other-app']) {
      await assertRejected(verifier, await signed(issuer, v1Claims(issuer, { aud })), /\(aud\)/, aud);
    }
  });

  it('issue 3 DKE_AUTH_CLOCK_SKEW_SECONDS: expired within the skew passes; beyond it → rejected on exp', async () => {
    const t = Math.floor(Date.now() / 1000);
    await verifier.verify(await signed(issuer, v1Claims(issuer, { exp: t - 60 })));
    await assertRejected(verifier, await signed(issuer, v1Claims(issuer, { exp: t - 180 })), /ERR_JWT_EXPIRED/);
    await assertRejected(verifierWith({ clockSkewSeconds: 30 }), await signed(issuer, v1Claims(issuer, { exp: t - 60 })), /ERR_JWT_EXPIRED/);
    const { exp: _omitted, ...noExp } = v1Claims(issuer);
    await assertRejected(verifier, await signed(issuer, noExp), /\(exp\)/, 'no exp');
  });

  it('forgery: not yet valid beyond the skew → rejected on nbf; within the skew passes', async () => {
    const t = Math.floor(Date.now() / 1000);
    await verifier.verify(await signed(issuer, v1Claims(issuer, { nbf: t + 60 })));
    await assertRejected(verifier, await signed(issuer, v1Claims(issuer, { nbf: t + 180 })), /\(nbf\)/);
    await assertRejected(verifierWith({ clockSkewSeconds: 0 }), await signed(issuer, v1Claims(issuer, { nbf: t + 60 })), /\(nbf\)/);
  });

  it('forgery: issuer of another tenant, signed with the keys all tenants share → rejected on iss', async () => {
    for (const iss of [issuer.v1Issuer(OTHER_TENANT), issuer.v2Issuer(OTHER_TENANT)]) {
      await assertRejected(verifier, await signed(issuer, v1Claims(issuer, { iss, tid: OTHER_TENANT })), /\(iss\)/, iss);
    }
  });

  it('forgery: look-alike issuers (host suffix, trailing-slash and case variants, http) → rejected on iss', async () => {
    const tid = issuer.tenantId;
    const lookAlikes = [
      `https://sts.windows.net.evil.com/${tid}/`,
      `https://evil.com/https://sts.windows.net/${tid}/`,
      `https://sts.windows.net/${tid}`,
      `https://sts.windows.net/${tid}//`,
      `http://sts.windows.net/${tid}/`,
      `https://STS.WINDOWS.NET/${tid}/`,
      `https://sts.windows.net/${tid.toUpperCase()}/`,
      `https://sts.windows.net/${tid}/ `,
      `https://login.microsoftonline.com/${tid}/v2.0/`,
      `https://login.microsoftonline.com/${tid}/`,
      `https://login.microsoftonline.com.evil.com/${tid}/v2.0`,
      `https://login.microsoftonline.us/${tid}/v2.0`,
    ];
    for (const iss of lookAlikes) {
      await assertRejected(verifier, await signed(issuer, v1Claims(issuer, { iss })), /\(iss\)/, iss);
    }
  });

  it('forgery: tid disagreeing with iss → rejected, even when both tenants are allowed', async () => {
    const both = verifierWith({ tenantIds: [issuer.tenantId, OTHER_TENANT] });
    await both.verify(await signed(issuer, v1Claims(issuer, { iss: issuer.v1Issuer(OTHER_TENANT), tid: OTHER_TENANT })));
    for (const tid of [OTHER_TENANT, undefined, '']) {
      await assertRejected(both, await signed(issuer, v1Claims(issuer, { tid })), /tid does not match/, String(tid));
      await assertRejected(both, await signed(issuer, v2Claims(issuer, { tid })), /tid does not match/, String(tid));
    }
  });

  it('DKE_AUTH_ISSUERS admits one more exact issuer (B2B, tests); its look-alikes stay out', async () => {
    const extra = 'https://issuer.partner.example/abc/';
    const withExtra = verifierWith({ issuers: [extra] });
    await withExtra.verify(await signed(issuer, v1Claims(issuer, { iss: extra })));
    await assertRejected(withExtra, await signed(issuer, v1Claims(issuer, { iss: extra.slice(0, -1) })), /\(iss\)/);
    await assertRejected(verifier, await signed(issuer, v1Claims(issuer, { iss: extra })), /\(iss\)/);
  });

  it('forgery: alg none, HS256 keyed with the RSA public key, ES256 and PS256 → refused before any key is fetched', async () => {
    const cold = new OpenIdKeySource({ metadataUrl: issuer.metadataUrl, cooldownMs: 0 });
    const strict = verifierWith({}, cold);
    const claims = v1Claims(issuer);
    const kid = issuer.currentKey.kid;
    const publicPem = createPublicKey({ key: issuer.currentKey.publicJwk as JsonWebKey, format: 'jwk' }).export({ type: 'spki', format: 'pem' });
    const rsaAsPss = await importPKCS8(await exportPKCS8(issuer.currentKey.privateKey), 'PS256');
    const ec = await generateKeyPair('ES256');
    const forgeries: [string, string][] = [
      ['none', compact({ alg: 'none', typ: 'JWT' }, claims, '')],
      ['none with kid', compact({ alg: 'none', typ: 'JWT', kid }, claims, '')],
      ['HS256', await signed(issuer, claims, { alg: 'HS256', key: Buffer.from(publicPem) })],
      ['PS256', await signed(issuer, claims, { alg: 'PS256', key: rsaAsPss })],
      ['ES256', await signed(issuer, claims, { alg: 'ES256', key: ec.privateKey })],
    ];
    const before = issuer.requestCounts;
    for (const [label, token] of forgeries) await assertRejected(strict, token, /ERR_JOSE_ALG_NOT_ALLOWED/, label);
    assert.deepEqual(issuer.requestCounts, before, 'no key was looked up for a refused algorithm');
    assert.equal(cold.status().loaded, false);
  });

  it('forgery: a key not in the JWKS, under a known kid → rejected on the signature', async () => {
    const stranger = await generateKeyPair('RS256');
    const token = await signed(issuer, v1Claims(issuer), { key: stranger.privateKey });
    await assertRejected(verifier, token, /ERR_JWS_SIGNATURE_VERIFICATION_FAILED/);
  });

  it('forgery: an unknown kid → rejected (no matching key)', async () => {
    const stranger = await generateKeyPair('RS256');
    const token = await signed(issuer, v1Claims(issuer), { key: stranger.privateKey, kid: 'not-a-published-kid' });
    await assertRejected(verifier, token, /ERR_JWKS_NO_MATCHING_KEY/);
  });

  it('forgery: tampered payload (upn, roles or exp changed, signature kept) → rejected on the signature', async () => {
    const token = await signed(issuer, v1Claims(issuer));
    const [header, , signature] = token.split('.');
    for (const change of [{ upn: 'ceo@contoso.example' }, { roles: ['DKE.Decrypt'] }, { exp: Math.floor(Date.now() / 1000) + 86_400 }]) {
      const payload = Buffer.from(JSON.stringify(v1Claims(issuer, change))).toString('base64url');
      await assertRejected(verifier, `${header}.${payload}.${signature}`, /ERR_JWS_SIGNATURE_VERIFICATION_FAILED/, JSON.stringify(change));
    }
    const flipped = signature!.startsWith('A') ? `B${signature!.slice(1)}` : `A${signature!.slice(1)}`;
    await assertRejected(verifier, `${token.slice(0, token.lastIndexOf('.'))}.${flipped}`, /ERR_JWS_SIGNATURE_VERIFICATION_FAILED/);
  });

  it('forgery: missing scope, wrong scope, and a scope that only contains the name → rejected on scp', async () => {
    for (const scp of [undefined, '', 'User.Read', 'user_impersonationX', 'User.Read user_impersonation.all', 'USER_IMPERSONATION']) {
      await assertRejected(verifier, await signed(issuer, v1Claims(issuer, { scp })), /scope user_impersonation missing/, String(scp));
    }
    await verifier.verify(await signed(issuer, v1Claims(issuer, { scp: 'User.Read user_impersonation' })));
  });

  it('forgery: app-only tokens (roles, no scp; idtyp app) and user tokens without a name never pass as a user', async () => {
    const appOnly = v1Claims(issuer, { scp: undefined, upn: undefined, unique_name: undefined, roles: ['DKE.Decrypt'], idtyp: 'app' });
    await assertRejected(verifier, await signed(issuer, appOnly), /scope user_impersonation missing/, 'roles only');
    // Even a token that carries the scope and a name is refused when Entra says it was issued to an application.
    await assertRejected(verifier, await signed(issuer, v1Claims(issuer, { idtyp: 'app' })), /not a user token/, 'idtyp app');
    const nameless = v1Claims(issuer, { upn: undefined, unique_name: undefined });
    await assertRejected(verifier, await signed(issuer, nameless), /not a user token/, 'no name');
    await assertRejected(verifier, await signed(issuer, v1Claims(issuer, { oid: undefined })), /not a user token/, 'no oid');
    await verifier.verify(await signed(issuer, v1Claims(issuer, { idtyp: 'user' })));
  });

  it('issue 3 sovereign clouds: a US Government or China cloud admits that cloud’s issuers, not the public ones', async () => {
    const tid = issuer.tenantId;
    const clouds = [
      {
        metadataUrl: `https://login.microsoftonline.us/${tid}/v2.0/.well-known/openid-configuration`,
        good: [`https://sts.windows.net/${tid}/`, `https://login.microsoftonline.us/${tid}/v2.0`],
        bad: [`https://login.microsoftonline.com/${tid}/v2.0`, `https://sts.chinacloudapi.cn/${tid}/`],
      },
      {
        metadataUrl: `https://login.partner.microsoftonline.cn/${tid}/v2.0/.well-known/openid-configuration`,
        good: [`https://sts.chinacloudapi.cn/${tid}/`, `https://login.partner.microsoftonline.cn/${tid}/v2.0`],
        bad: [`https://sts.windows.net/${tid}/`, `https://login.microsoftonline.com/${tid}/v2.0`],
      },
    ];
    for (const cloud of clouds) {
      // The keys still come from the loopback issuer: only the configured metadata URL names the cloud.
      const sovereign = verifierWith({ metadataUrl: cloud.metadataUrl, cloud: cloudOfUrl(cloud.metadataUrl)! });
      for (const iss of cloud.good) await sovereign.verify(await signed(issuer, v1Claims(issuer, { iss })));
      for (const iss of cloud.bad) await assertRejected(sovereign, await signed(issuer, v1Claims(issuer, { iss })), /\(iss\)/, iss);
    }
  });

  it('issue 3 group overage (_claim_names / hasgroups) → no groups, and the overage is reported', async () => {
    const reported: string[] = [];
    const withCallback = new EntraTokenVerifier(config, keys, (oid) => reported.push(oid));
    const overage = [
      { _claim_names: { groups: 'src1' }, _claim_sources: { src1: { endpoint: 'https://graph.windows.net/x/users/y/getMemberObjects' } } },
      { hasgroups: true },
    ];
    for (const claims of overage) {
      const principal = await withCallback.verify(await signed(issuer, v1Claims(issuer, { ...claims, groups: ['6f1e0000-0000-4000-8000-00000000abcd'] })));
      assert.deepEqual(principal.groups, []);
    }
    assert.deepEqual(reported, ['1b2c3d4e-0000-4000-8000-00000000a11c', '1b2c3d4e-0000-4000-8000-00000000a11c']);
    await withCallback.verify(await signed(issuer, v1Claims(issuer)));
    assert.equal(reported.length, 2, 'a token without overage is not reported');
  });
});
