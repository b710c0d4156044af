import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { generateKeyPair } from 'jose';
import { afterEach, beforeEach, describe, it } from 'mocha';
import { EntraTokenVerifier } from '../../src/auth/entra-token-verifier.js';
import { OpenIdKeySource } from '../../src/auth/openid-key-source.js';
import { DevTokenIssuer } from '../../src/dev/dev-token-issuer.js';
import { TokenInvalid } from '../../src/keys/errors.js';
import { AUDIENCE, signed, v1Claims } from './entra-tokens.js';

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
    issuer = new DevTokenIssuer();
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
});
