/**
 * Contract §1 decrypt (src/auth/verified-token-cache.ts): each distinct bearer token is verified once and its verdict
 * kept until its `exp` (5 minutes at most), never longer, never for another token.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { VerifiedTokenCache } from '../../src/auth/verified-token-cache.js';
import type { TokenVerifier } from '../../src/keys/ports.js';
import type { Principal } from '../../src/keys/access-policy.js';
import { TokenInvalid } from '../../src/keys/errors.js';

const alice: Principal = { oid: 'o-1', tenantId: 't', memberUpn: 'alice@contoso.dev', auditName: 'alice@contoso.dev', groups: [], roles: [] };

/** A token-shaped string whose payload carries `exp` (seconds); the cache never checks signatures itself. */
function tokenWithExp(expSeconds: number, salt = ''): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'RS256' })}.${part({ exp: expSeconds, salt })}.sig`;
}

class CountingVerifier implements TokenVerifier {
  calls = 0;
  constructor(private readonly accept: boolean) {}
  async verify(): Promise<Principal> {
    this.calls += 1;
    if (!this.accept) throw new TokenInvalid('A valid bearer token is required.', 'test');
    return alice;
  }
}

describe('auth/verified-token-cache', () => {
  it('verifies a token once and reuses the verdict for the identical token until it expires', async () => {
    let now = 1_000_000_000;
    const inner = new CountingVerifier(true);
    const cache = new VerifiedTokenCache(inner, { now: () => now, maxAgeMs: 3_600_000 });
    const token = tokenWithExp(now / 1000 + 60);
    assert.equal(await cache.verify(token), alice);
    assert.equal(await cache.verify(token), alice);
    assert.equal(inner.calls, 1);
    now += 61_000;
    await cache.verify(token);
    assert.equal(inner.calls, 2, 'an expired verdict is checked again (and the inner verifier rejects expired tokens)');
  });

  it('never reuses a verdict past maxAgeMs, and never caches a failure', async () => {
    let now = 2_000_000_000;
    const inner = new CountingVerifier(true);
    const cache = new VerifiedTokenCache(inner, { now: () => now, maxAgeMs: 1000 });
    const token = tokenWithExp(now / 1000 + 3600);
    await cache.verify(token);
    now += 1001;
    await cache.verify(token);
    assert.equal(inner.calls, 2);

    const rejecting = new CountingVerifier(false);
    const strict = new VerifiedTokenCache(rejecting);
    await assert.rejects(strict.verify(token), TokenInvalid);
    await assert.rejects(strict.verify(token), TokenInvalid);
    assert.equal(rejecting.calls, 2);
  });

  it('keys on the whole token: a token differing in any byte is verified on its own', async () => {
    const inner = new CountingVerifier(true);
    const cache = new VerifiedTokenCache(inner);
    const exp = Math.floor(Date.now() / 1000) + 3600;
    await cache.verify(tokenWithExp(exp));
    await cache.verify(`${tokenWithExp(exp)}x`);
    await cache.verify(tokenWithExp(exp, 'other'));
    assert.equal(inner.calls, 3);
  });

  it('forgets the oldest entry beyond maxEntries', async () => {
    const inner = new CountingVerifier(true);
    const cache = new VerifiedTokenCache(inner, { maxEntries: 2 });
    const exp = Math.floor(Date.now() / 1000) + 3600;
    const [a, b, c] = ['a', 'b', 'c'].map((s) => tokenWithExp(exp, s)) as [string, string, string];
    await cache.verify(a);
    await cache.verify(b);
    await cache.verify(c);
    await cache.verify(b);
    assert.equal(inner.calls, 3);
    await cache.verify(a);
    assert.equal(inner.calls, 4, 'a was forgotten');
  });
});
