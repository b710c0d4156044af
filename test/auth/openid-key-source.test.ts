/**
 * Contract §2 `DKE_AUTH_METADATA_URL` (src/auth/openid-key-source.ts, issue 3): issuer keys fetched over HTTP from
 * the OpenID metadata, picked up on rotation, at most one refresh per cooldown, kept through an outage.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import { afterEach, beforeEach, describe, it } from 'mocha';
import { EntraTokenVerifier } from '../../src/auth/entra-token-verifier.js';
import { OpenIdKeySource } from '../../src/auth/openid-key-source.js';
import { PUBLIC_CLOUD } from '../../src/config/entra-clouds.js';
import type { DevTokenIssuer } from '../../src/dev/dev-token-issuer.js';
import { TokenInvalid } from '../../src/keys/errors.js';
import { encryptLikeOffice } from '../support/office-client.js';
import { startTestEnv, testIssuer, type TestEnv } from '../support/test-env.js';
import { AUDIENCE, signed, v1Claims } from './entra-tokens.js';

/** The issuer's current public JWK with one character of its modulus changed: still 2048 bits, other material. */
function brokenModulus(jwk: JWK): JWK {
  const n = jwk.n!;
  return { ...jwk, n: `${n.slice(0, 100)}${n[100] === 'A' ? 'B' : 'A'}${n.slice(101)}` };
}

const COOLDOWN_MS = 300;

describe('auth/openid-key-source: issuer keys over HTTP, rotation, cooldown, outages (issue 3)', () => {
  let issuer: DevTokenIssuer;
  let keys: OpenIdKeySource;
  let verifier: EntraTokenVerifier;

  const makeVerifier = (source: OpenIdKeySource) =>
    new EntraTokenVerifier(
      {
        audiences: [AUDIENCE],
        tenantIds: [issuer.tenantId],
        issuers: [],
        metadataUrl: issuer.metadataUrl,
        requiredScope: 'user_impersonation',
        clockSkewSeconds: 300,
        authorizationUrl: 'https://login.windows.net/common/oauth2/authorize',
        cloud: PUBLIC_CLOUD,
      },
      source,
    );
  const validToken = () => signed(issuer, v1Claims(issuer));
  const unknownKidTokens = async (count: number) => {
    const { privateKey } = await generateKeyPair('RS256');
    return Promise.all(Array.from({ length: count }, (_, i) => signed(issuer, v1Claims(issuer), { kid: `forged-${i}`, key: privateKey })));
  };
  const refreshes = () => issuer.requestCounts.jwks;

  beforeEach(async () => {
    issuer = testIssuer();
    await issuer.start();
    keys = new OpenIdKeySource({ metadataUrl: issuer.metadataUrl, cooldownMs: COOLDOWN_MS });
    await keys.refresh();
    verifier = makeVerifier(keys);
  });
  afterEach(() => issuer.stop());

  it('issue 3 rotation: a new kid at the issuer is picked up without a restart, with exactly one refresh', async () => {
    const oldToken = await validToken();
    await verifier.verify(oldToken);
    await sleep(COOLDOWN_MS + 50);
    const before = issuer.requestCounts;
    await issuer.rotateKey();
    const rotated = await validToken();
    const principals = await Promise.all([verifier.verify(rotated), verifier.verify(rotated), verifier.verify(rotated)]);
    assert.equal(principals.length, 3, 'tokens arriving together with the new kid share the one refresh');
    assert.deepEqual(issuer.requestCounts, { metadata: before.metadata + 1, jwks: before.jwks + 1 });
    await verifier.verify(oldToken);
    assert.equal(refreshes(), before.jwks + 1, 'the overlapping old key still verifies without another fetch');
  });

  it('issue 3 cooldown: a flood of unknown kids costs at most one JWKS request per cooldown', async () => {
    await sleep(COOLDOWN_MS + 50);
    const before = refreshes();
    const flood = await unknownKidTokens(40);
    const outcomes = await Promise.allSettled(flood.map((t) => verifier.verify(t)));
    assert.ok(outcomes.every((o) => o.status === 'rejected' && o.reason instanceof TokenInvalid));
    for (const token of flood.slice(0, 10)) await assert.rejects(verifier.verify(token), TokenInvalid);
    assert.equal(refreshes(), before + 1, 'one refresh for the whole flood within the cooldown');
    await sleep(COOLDOWN_MS + 50);
    await Promise.allSettled(flood.map((t) => verifier.verify(t)));
    assert.equal(refreshes(), before + 2, 'one more after the cooldown, not one per token');
  });

  for (const endpoint of ['metadata', 'jwks'] as const) {
    it(`issue 3 outage: ${endpoint} endpoint down → cached keys keep verifying and the status says the refresh failed`, async () => {
      const token = await validToken();
      issuer.setAvailable(false, endpoint);
      await keys.refresh();
      const status = keys.status();
      assert.equal(status.loaded, true);
      assert.equal(status.lastRefreshOk, false);
      assert.match(status.lastError ?? '', endpoint === 'jwks' ? /JWKS endpoint answered 503/ : /metadata endpoint answered 503/);
      await verifier.verify(token);
      await verifier.verify(await signed(issuer, v1Claims(issuer, { upn: 'bob@contoso.example' })));
      issuer.setAvailable(true, endpoint);
      await sleep(COOLDOWN_MS + 50);
      keys.refreshIfDue();
      await sleep(100);
      assert.equal(keys.status().lastRefreshOk, true, 'a due refresh notices the recovered issuer without any token');
    });
  }

  it('issue 3 outage at start: no keys → tokens refused; the issuer is asked at most once per cooldown; keys load when it returns', async () => {
    issuer.setAvailable(false);
    const cold = new OpenIdKeySource({ metadataUrl: issuer.metadataUrl, cooldownMs: COOLDOWN_MS });
    const coldVerifier = makeVerifier(cold);
    const token = await validToken();
    const before = issuer.requestCounts.metadata;
    for (let i = 0; i < 5; i += 1) await assert.rejects(coldVerifier.verify(token), TokenInvalid);
    assert.equal(issuer.requestCounts.metadata, before + 1);
    assert.equal(cold.status().loaded, false);
    issuer.setAvailable(true);
    await assert.rejects(coldVerifier.verify(token), TokenInvalid, 'still within the cooldown');
    await sleep(COOLDOWN_MS + 50);
    await coldVerifier.verify(token);
    assert.equal(cold.status().loaded, true);
  });

  it('keys older than maxAge are refetched in the background while the held keys answer', async () => {
    const aging = new OpenIdKeySource({ metadataUrl: issuer.metadataUrl, cooldownMs: 0, maxAgeMs: 100 });
    await aging.refresh();
    const agingVerifier = makeVerifier(aging);
    const token = await validToken();
    const before = issuer.requestCounts.metadata;
    await agingVerifier.verify(token);
    assert.equal(issuer.requestCounts.metadata, before, 'fresh keys: no fetch');
    await sleep(150);
    issuer.setAvailable(false);
    await agingVerifier.verify(token);
    await sleep(50);
    assert.equal(issuer.requestCounts.metadata, before + 1, 'one background refresh');
    assert.equal(aging.status().lastRefreshOk, false, 'it failed, and the held keys answered meanwhile');
  });
  it('issue 18: an issuer answering {"keys":[]} keeps the last good keys; readiness warns with the reason', async () => {
    const token = await validToken();
    issuer.answerKeySetWith({ keys: [] });
    await keys.refresh();
    const status = keys.status();
    assert.equal(status.loaded, true);
    assert.equal(status.keys, 1);
    assert.equal(status.lastRefreshOk, false);
    assert.deepEqual(keys.readinessProblem(), {
      warning: 'the last refresh of the issuer keys failed (the JWKS holds no usable RS256 signing key (it is empty)); cached keys are in use',
    });
    await verifier.verify(token);
    await verifier.verify(await validToken());
  });

  it('issue 18: answers with no usable key (wrong kty, alg or use, weak or unreadable modulus, no kid) keep the last good keys', async () => {
    const real = issuer.currentKey.publicJwk;
    const { publicKey: ec } = await generateKeyPair('ES256');
    const answers: [unknown, RegExp][] = [
      [{ keys: [{ ...(await exportJWK(ec)), kid: real.kid }] }, /kty EC/],
      [{ keys: [{ ...real, alg: 'RS512' }] }, /alg RS512/],
      [{ keys: [{ ...real, use: 'enc' }] }, /use enc/],
      [{ keys: [{ ...real, key_ops: ['encrypt'] }] }, /key_ops without verify/],
      [{ keys: [{ ...real, n: 'AQAB' }] }, /a 17-bit modulus/],
      [{ keys: [{ ...real, n: 12 }] }, /no modulus or exponent/],
      [{ keys: [{ ...real, kid: undefined }] }, /no kid/],
      [{ keys: [null, 'x'] }, /kty undefined/],
      [{ keys: 'none' }, /the JWKS has no keys array/],
    ];
    for (const [answer, reason] of answers) {
      issuer.answerKeySetWith(answer);
      await keys.refresh();
      assert.equal(keys.status().lastRefreshOk, false, JSON.stringify(answer).slice(0, 80));
      assert.match(keys.status().lastError ?? '', reason);
      await verifier.verify(await validToken());
    }
    issuer.answerKeySetWith(undefined);
    await keys.refresh();
    assert.equal(keys.readinessProblem(), undefined, 'a good answer clears the warning');
  });

  it('issue 18: the same kid with a broken modulus keeps the key held; readiness warns until material verifies a token', async () => {
    const kid = issuer.currentKey.kid;
    issuer.answerKeySetWith({ keys: [brokenModulus(issuer.currentKey.publicJwk)] });
    await keys.refresh();
    assert.equal(keys.status().lastRefreshOk, true);
    assert.deepEqual(keys.status().pendingKids, [kid]);
    assert.deepEqual(keys.readinessProblem(), {
      warning: `the issuer offers new key material for kid ${kid}; the key held stays in use until the new one verifies a token`,
    });
    for (let i = 0; i < 5; i += 1) await verifier.verify(await validToken());
    assert.deepEqual(keys.status().pendingKids, [kid], 'a broken key never verifies, so it is never adopted');
    issuer.answerKeySetWith(undefined);
    await keys.refresh();
    assert.equal(keys.readinessProblem(), undefined);
  });

  it('issue 18: a kid genuinely re-keyed by the issuer is adopted by the first token its new key verifies', async () => {
    const kid = issuer.currentKey.kid;
    const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
    issuer.answerKeySetWith({ keys: [{ ...(await exportJWK(publicKey)), kid, use: 'sig', alg: 'RS256' }] });
    await keys.refresh();
    const oldKeyToken = await validToken();
    await verifier.verify(oldKeyToken);
    await verifier.verify(await signed(issuer, v1Claims(issuer), { kid, key: privateKey }));
    assert.deepEqual(keys.status().pendingKids, [], 'adopted');
    await assert.rejects(verifier.verify(await validToken()), TokenInvalid, 'the replaced material no longer verifies');
    issuer.answerKeySetWith(undefined);
  });

  it('issue 18: failed refreshes back off (the wait doubles from the cooldown up to maxBackoffMs), and reset on success', async () => {
    const backing = new OpenIdKeySource({ metadataUrl: issuer.metadataUrl, cooldownMs: 50, maxBackoffMs: 400 });
    await backing.refresh();
    issuer.answerKeySetWith({ keys: [] });
    const before = refreshes();
    const started = Date.now();
    await backing.refresh();
    while (Date.now() - started < 1200) {
      backing.refreshIfDue();
      await sleep(10);
    }
    // Attempts at about 0, 50, 150, 350, 750 and 1150 ms; without backoff there would be one every 50 ms (24).
    const attempts = refreshes() - before;
    assert.ok(attempts >= 4 && attempts <= 7, `${attempts} attempts in 1.2 s`);
    issuer.answerKeySetWith(undefined);
    await sleep(450);
    backing.refreshIfDue();
    await sleep(100);
    assert.equal(backing.status().lastRefreshOk, true);
  });
});

describe('issue 18 through HTTP: bad issuer answers under load lock no valid user out', () => {
  let env: TestEnv;
  after(() => env?.close());

  it('{"keys":[]}, a broken modulus and a weak key during 150 decrypts with distinct valid tokens: zero 401, readiness warns', async () => {
    env = await startTestEnv();
    const user = 'alice@contoso.dev';
    const { keyId } = await env.admin.create('steady', { allow: { users: [user], groups: [], roles: [] } });
    const jwk = (await env.http.get('/steady').expect(200)).body.key as { n: string; e: number };
    const real = env.issuer.currentKey.publicJwk;
    const decrypt = async (i: number) => {
      // A distinct token each time (uti), so each one is verified against the keys held, not the verdict cache.
      const token = await env.token({ upn: user, extraClaims: { uti: `load-${i}` } });
      const res = await env.http
        .post(`/steady/${keyId}/decrypt`)
        .set('Content-Type', 'application/json')
        .set('Authorization', `Bearer ${token}`)
        .send(JSON.stringify({ alg: 'RSA-OAEP-256', value: encryptLikeOffice(jwk, Buffer.from(`doc ${i}`)) }));
      return res.status;
    };
    const statuses: number[] = [];
    const phases: [string, unknown][] = [
      ['empty set', { keys: [] }],
      ['broken modulus under the same kid', { keys: [brokenModulus(real)] }],
      ['weak key under the same kid', { keys: [{ ...real, n: 'AQAB' }] }],
    ];
    let i = 0;
    for (const [phase, answer] of phases) {
      env.issuer.answerKeySetWith(answer);
      const batch = Array.from({ length: 50 }, () => decrypt((i += 1)));
      await Promise.all([...batch.slice(0, 25), env.service.keySource.refresh(), ...batch.slice(25)]).then((results) => {
        for (const status of results) if (typeof status === 'number') statuses.push(status);
      });
      const report = await env.service.readiness.check();
      assert.equal(report.checks.issuerKeys?.status, 'warn', phase);
      assert.equal(report.ready, true, `${phase}: still ready (200)`);
    }
    assert.equal(statuses.length, 150);
    assert.deepEqual(statuses.filter((s) => s !== 200), [], 'every valid user decrypted');
    env.issuer.answerKeySetWith(undefined);
  });
});
