import { createPublicKey, type KeyObject } from 'node:crypto';
import { errors, flattenedVerify, type FlattenedJWSInput, type JWTHeaderParameters } from 'jose';

/** RS256 keys shorter than this are refused (jose refuses them too, at every token). */
const MIN_MODULUS_BITS = 2048;

/** A key of the issuer's JWKS that can verify RS256 tokens. */
export interface UsableKey {
  readonly kid: string;
  readonly key: KeyObject;
}

/**
 * The members of a JWKS answer that can verify Entra's RS256 tokens: `kty` RSA, `alg` absent or RS256, `use` absent
 * or `sig`, `key_ops` absent or with `verify`, a `kid`, and a public key of at least 2048 bits that Node can read.
 * The reason each other member was set aside is returned too (for readiness and the log), never the key itself.
 */
export function usableSigningKeys(keys: readonly unknown[]): { usable: UsableKey[]; rejected: string[] } {
  const usable: UsableKey[] = [];
  const rejected: string[] = [];
  keys.forEach((member, index) => {
    const jwk = (typeof member === 'object' && member !== null ? member : {}) as Record<string, unknown>;
    const name = typeof jwk.kid === 'string' && jwk.kid !== '' ? `kid ${jwk.kid.slice(0, 64)}` : `key ${index}`;
    const problem = unusableBecause(jwk);
    if (problem !== undefined) {
      rejected.push(`${name}: ${problem}`);
      return;
    }
    try {
      const key = createPublicKey({ key: { kty: 'RSA', n: jwk.n as string, e: jwk.e as string }, format: 'jwk' });
      const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
      if (bits < MIN_MODULUS_BITS) rejected.push(`${name}: a ${bits}-bit modulus`);
      else usable.push({ kid: jwk.kid as string, key });
    } catch {
      rejected.push(`${name}: not a readable RSA public key`);
    }
  });
  return { usable, rejected };
}

function unusableBecause(jwk: Record<string, unknown>): string | undefined {
  if (jwk.kty !== 'RSA') return `kty ${String(jwk.kty)}`;
  if (jwk.alg !== undefined && jwk.alg !== 'RS256') return `alg ${String(jwk.alg)}`;
  if (jwk.use !== undefined && jwk.use !== 'sig') return `use ${String(jwk.use)}`;
  if (jwk.key_ops !== undefined && !(Array.isArray(jwk.key_ops) && jwk.key_ops.includes('verify'))) return 'key_ops without verify';
  if (typeof jwk.kid !== 'string' || jwk.kid === '') return 'no kid';
  if (typeof jwk.n !== 'string' || typeof jwk.e !== 'string') return 'no modulus or exponent';
  return undefined;
}

interface Entry {
  /** The key tokens with this `kid` are verified with. */
  current: KeyObject;
  /** Different material the issuer now offers under the same `kid`: adopted once it verifies a token. */
  candidate: KeyObject | undefined;
}

/**
 * The issuer's signing keys by `kid` (issue 18). A refresh that offers different key material under a `kid` already
 * held does not replace it at once: a broken or substituted key in one answer would otherwise fail every token
 * signed with the real one. The held key keeps verifying, and the new one is adopted the first time it verifies a
 * token's signature.
 */
export class SigningKeySet {
  readonly #entries: Map<string, Entry>;

  private constructor(entries: Map<string, Entry>) {
    this.#entries = entries;
  }

  static of(keys: readonly UsableKey[]): SigningKeySet {
    return SigningKeySet.empty().withFreshKeys(keys);
  }

  static empty(): SigningKeySet {
    return new SigningKeySet(new Map());
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Kids whose new material is waiting for a token it verifies. */
  get pendingKids(): string[] {
    return [...this.#entries].filter(([, entry]) => entry.candidate !== undefined).map(([kid]) => kid);
  }

  /**
   * The set after a refresh: the fresh keys, except that a `kid` held with other material keeps it (and the fresh
   * material waits as the candidate). Kids the issuer no longer lists are dropped, as Entra retires keys.
   */
  withFreshKeys(fresh: readonly UsableKey[]): SigningKeySet {
    const entries = new Map<string, Entry>();
    for (const { kid, key } of fresh) {
      const held = this.#entries.get(kid);
      if (held === undefined || held.current.equals(key)) entries.set(kid, { current: key, candidate: undefined });
      else entries.set(kid, { current: held.current, candidate: key });
    }
    return new SigningKeySet(entries);
  }

  /** A jose key resolver body: the key for the token's `kid`, adopting a candidate that verifies this very token. */
  async resolve(header: JWTHeaderParameters, token: FlattenedJWSInput): Promise<KeyObject> {
    const entry = header.kid === undefined ? undefined : this.#entries.get(header.kid);
    if (entry === undefined) throw new errors.JWKSNoMatchingKey();
    const candidate = entry.candidate;
    if (candidate !== undefined && (await verifiesWith(token, candidate))) {
      entry.current = candidate;
      entry.candidate = undefined;
    }
    return entry.current;
  }
}

async function verifiesWith(token: FlattenedJWSInput, key: KeyObject): Promise<boolean> {
  try {
    await flattenedVerify(token, key, { algorithms: ['RS256'] });
    return true;
  } catch {
    return false;
  }
}
