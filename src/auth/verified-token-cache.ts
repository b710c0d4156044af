import type { Principal } from '../keys/access-policy.js';
import type { TokenVerifier } from '../keys/ports.js';

export interface VerifiedTokenCacheOptions {
  /** Most tokens remembered at once; the oldest is forgotten first. */
  readonly maxEntries?: number;
  /** Longest a verdict is reused, whatever the token's own expiry (default 5 minutes). */
  readonly maxAgeMs?: number;
  readonly now?: () => number;
}

interface Entry {
  readonly principal: Principal;
  readonly until: number;
}

/**
 * Remembers tokens that verified, so that an Office client that sends the same token for every document it opens
 * costs one signature check, not one per request (issue 5: JWT verification cheap on the hot path). The key is the
 * whole token string, so a verdict is reused only for the byte-identical token whose signature was checked; it
 * expires with the token (`exp`) or after `maxAgeMs`, whichever is first. Failures are never cached.
 */
export class VerifiedTokenCache implements TokenVerifier {
  readonly #inner: TokenVerifier;
  readonly #entries = new Map<string, Entry>();
  readonly #maxEntries: number;
  readonly #maxAgeMs: number;
  readonly #now: () => number;

  constructor(inner: TokenVerifier, options: VerifiedTokenCacheOptions = {}) {
    this.#inner = inner;
    this.#maxEntries = options.maxEntries ?? 10_000;
    this.#maxAgeMs = options.maxAgeMs ?? 300_000;
    this.#now = options.now ?? Date.now;
  }

  async verify(token: string): Promise<Principal> {
    const now = this.#now();
    const cached = this.#entries.get(token);
    if (cached !== undefined) {
      if (cached.until > now) return cached.principal;
      this.#entries.delete(token);
    }
    const principal = await this.#inner.verify(token);
    const expiresAt = tokenExpiryMs(token);
    if (expiresAt !== undefined) {
      if (this.#entries.size >= this.#maxEntries) this.#entries.delete(this.#entries.keys().next().value!);
      this.#entries.set(token, { principal, until: Math.min(expiresAt, now + this.#maxAgeMs) });
    }
    return principal;
  }
}

/** `exp` of a token that has just verified (so its payload is well-formed), in ms. */
function tokenExpiryMs(token: string): number | undefined {
  try {
    const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { exp?: unknown };
    return typeof payload.exp === 'number' ? payload.exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}
