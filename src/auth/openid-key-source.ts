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
  /** At most one refresh per this many ms, whatever the tokens say (default 30 s, as jose's remote JWKS). */
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

  /**
   * Starts a refresh in the background when the keys are older than maxAge or the last refresh failed, at most once
   * per cooldown (readiness calls it, so a recovered issuer is noticed without traffic). The keys held stay in use.
   */
  refreshIfDue(): void {
    const due = !this.#lastRefreshOk || Date.now() - this.#loadedAt > this.#options.maxAgeMs;
    if (due && this.#cooldownOver()) void this.refresh();
  }

  /**
   * A jose key resolver: finds the key for a token header. An unknown `kid` refetches the keys, and so does a token
   * while none are loaded, but at most once per cooldown: forged `kid`s cannot make the service flood the issuer.
   */
  readonly resolveKey = async (header: JWTHeaderParameters, token: FlattenedJWSInput): Promise<ResolvedKey> => {
    if (this.#resolver === undefined) await this.#pendingRefresh();
    if (this.#resolver === undefined) throw new errors.JWKSNoMatchingKey('the issuer keys are not loaded');
    this.refreshIfDue();
    try {
      return await this.#resolver(header, token);
    } catch (error) {
      if (!(error instanceof errors.JWKSNoMatchingKey)) throw error;
      const refreshing = this.#pendingRefresh();
      if (refreshing === undefined) throw error;
      await refreshing;
      return this.#resolver(header, token);
    }
  };

  /** The refresh under way (tokens arriving together with a new `kid` share it), else a new one if the cooldown allows. */
  #pendingRefresh(): Promise<void> | undefined {
    return this.#inFlight ?? (this.#cooldownOver() ? this.refresh() : undefined);
  }

  #cooldownOver(): boolean {
    return this.#lastAttemptAt === 0 || Date.now() - this.#lastAttemptAt >= this.#options.cooldownMs;
  }

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
