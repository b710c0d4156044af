import { createLocalJWKSet, errors, type JSONWebKeySet, type JWTHeaderParameters, type FlattenedJWSInput } from 'jose';

type KeyResolver = ReturnType<typeof createLocalJWKSet>;
export type ResolvedKey = Awaited<ReturnType<KeyResolver>>;

export interface KeySourceStatus {
  readonly loaded: boolean;
  readonly keys: number;
  readonly lastRefreshAt: string | undefined;
  readonly lastRefreshOk: boolean;
  readonly lastError: string | undefined;
}

export interface OpenIdKeySourceOptions {
  /** OpenID metadata document; its `jwks_uri` names the signing keys. */
  readonly metadataUrl: string;
  /** At most one refresh per this many ms when a token names an unknown `kid` (default 30 s, as jose's). */
  readonly cooldownMs?: number;
  /** Keys are refetched in the background after this age (default 1 h); old keys stay in use if that fails. */
  readonly maxAgeMs?: number;
  readonly timeoutMs?: number;
  readonly onRefresh?: (ok: boolean, detail: string) => void;
}

/**
 * The token issuer's signing keys, fetched from its OpenID metadata and JWKS over HTTPS and kept in memory.
 * When the issuer cannot be reached the keys already held keep working (a metadata outage must not stop every
 * Office user); an unknown `kid` refetches at most once per cooldown, so forged `kid`s cannot flood the issuer.
 */
export class OpenIdKeySource {
  readonly #options: Required<Omit<OpenIdKeySourceOptions, 'onRefresh'>> & Pick<OpenIdKeySourceOptions, 'onRefresh'>;
  #resolver: KeyResolver | undefined;
  #keyCount = 0;
  #loadedAt = 0;
  #lastAttemptAt = 0;
  #lastRefreshOk = false;
  #lastError: string | undefined;
  #inFlight: Promise<void> | undefined;

  constructor(options: OpenIdKeySourceOptions) {
    this.#options = { cooldownMs: 30_000, maxAgeMs: 3_600_000, timeoutMs: 5_000, ...options };
  }

  status(): KeySourceStatus {
    return {
      loaded: this.#resolver !== undefined,
      keys: this.#keyCount,
      lastRefreshAt: this.#lastAttemptAt === 0 ? undefined : new Date(this.#lastAttemptAt).toISOString(),
      lastRefreshOk: this.#lastRefreshOk,
      lastError: this.#lastError,
    };
  }

  /** Fetches the keys now (start-up, readiness). Never throws; the status says how it went. */
  async refresh(): Promise<void> {
    this.#inFlight ??= this.#fetchKeys().finally(() => {
      this.#inFlight = undefined;
    });
    return this.#inFlight;
  }

  /** A jose key resolver: finds the key for a token header, refreshing once per cooldown on an unknown `kid`. */
  readonly resolveKey = async (header: JWTHeaderParameters, token: FlattenedJWSInput): Promise<ResolvedKey> => {
    const now = Date.now();
    if (this.#resolver === undefined || now - this.#loadedAt > this.#options.maxAgeMs) {
      if (now - this.#lastAttemptAt > this.#options.cooldownMs || this.#resolver === undefined) await this.refresh();
    }
    if (this.#resolver === undefined) throw new errors.JWKSNoMatchingKey('the issuer keys are not loaded');
    try {
      return await this.#resolver(header, token);
    } catch (error) {
      if (!(error instanceof errors.JWKSNoMatchingKey) || Date.now() - this.#lastAttemptAt < this.#options.cooldownMs) throw error;
      await this.refresh();
      return this.#resolver(header, token);
    }
  };

  async #fetchKeys(): Promise<void> {
    this.#lastAttemptAt = Date.now();
    try {
      const metadata = await this.#getJson(this.#options.metadataUrl, 'metadata');
      const jwksUri = typeof metadata.jwks_uri === 'string' ? metadata.jwks_uri : undefined;
      if (jwksUri === undefined) throw new Error('the metadata has no jwks_uri');
      const jwks = await this.#getJson(jwksUri, 'JWKS');
      if (!Array.isArray(jwks.keys)) throw new Error('the JWKS has no keys array');
      this.#resolver = createLocalJWKSet(jwks as unknown as JSONWebKeySet);
      this.#keyCount = jwks.keys.length;
      this.#loadedAt = Date.now();
      this.#lastRefreshOk = true;
      this.#lastError = undefined;
      this.#options.onRefresh?.(true, `${this.#keyCount} keys`);
    } catch (error) {
      this.#lastRefreshOk = false;
      this.#lastError = error instanceof Error ? error.message : 'unknown error';
      this.#options.onRefresh?.(false, this.#lastError);
    }
  }

  async #getJson(url: string, what: string): Promise<Record<string, unknown>> {
    const response = await fetch(url, { signal: AbortSignal.timeout(this.#options.timeoutMs), redirect: 'error' });
    if (!response.ok) throw new Error(`the ${what} endpoint answered ${response.status}`);
    const body: unknown = await response.json();
    if (typeof body !== 'object' || body === null) throw new Error(`the ${what} is not a JSON object`);
    return body as Record<string, unknown>;
  }
}
