import type { KeyObject } from 'node:crypto';
import { errors, type JWTHeaderParameters, type FlattenedJWSInput } from 'jose';
import { SigningKeySet, usableSigningKeys } from './signing-key-set.js';
import { fetch } from 'undici';
import type { OutboundProxyConfig } from './auth-settings.js';
import { outboundPath, type OutboundPath } from './outbound-proxy.js';

export type ResolvedKey = KeyObject;

export interface KeySourceStatus {
  readonly loaded: boolean;
  readonly keys: number;
  readonly lastRefreshAt: string | undefined;
  readonly lastRefreshOk: boolean;
  readonly lastError: string | undefined;
  /** Kids for which the issuer offers new key material that has not verified a token yet (the held key is used). */
  readonly pendingKids: readonly string[];
}

export interface OpenIdKeySourceOptions {
  /** OpenID metadata document; its `jwks_uri` names the signing keys. */
  readonly metadataUrl: string;
  /** At most one refresh per this many ms, whatever the tokens say (default 30 s, as jose's remote JWKS). */
  readonly cooldownMs?: number;
  /** Keys are refetched in the background after this age (default 1 h); old keys stay in use if that fails. */
  readonly maxAgeMs?: number;
  readonly timeoutMs?: number;
  /** After failed refreshes the wait doubles from the cooldown up to this (default 5 min). */
  readonly maxBackoffMs?: number;
  /** HTTPS_PROXY, HTTP_PROXY, NO_PROXY (default: none, direct). */
  readonly proxy?: OutboundProxyConfig;
  readonly onRefresh?: (ok: boolean, detail: string) => void;
}

/**
 * The token issuer's signing keys, fetched from its OpenID metadata and JWKS over HTTPS and kept in memory.
 * When the issuer cannot be reached the keys already held keep working (a metadata outage must not stop every
 * Office user); an unknown `kid` refetches at most once per cooldown, so forged `kid`s cannot flood the issuer.
 * An answer without a single usable key (an empty set, unreadable or weak keys, another `kty` or `alg`) is a failed
 * refresh too: the last good keys stay (issue 18), readiness warns with the reason, and retries back off.
 */
export class OpenIdKeySource {
  readonly #options: Required<Omit<OpenIdKeySourceOptions, 'onRefresh' | 'proxy'>> & Pick<OpenIdKeySourceOptions, 'onRefresh'>;
  #keys: SigningKeySet | undefined;
  readonly #outbound: OutboundPath;
  #loadedAt = 0;
  #lastAttemptAt = 0;
  #lastRefreshOk = false;
  #lastError: string | undefined;
  /** Failed refreshes in a row: the wait before the next one doubles with each. */
  #failures = 0;
  #inFlight: Promise<void> | undefined;

  constructor(options: OpenIdKeySourceOptions) {
    this.#options = { cooldownMs: 30_000, maxAgeMs: 3_600_000, timeoutMs: 5_000, maxBackoffMs: 300_000, ...options };
    this.#outbound = outboundPath(options.proxy ?? {});
  }

  status(): KeySourceStatus {
    return {
      loaded: this.#keys !== undefined,
      keys: this.#keys?.size ?? 0,
      lastRefreshAt: this.#lastAttemptAt === 0 ? undefined : new Date(this.#lastAttemptAt).toISOString(),
      lastRefreshOk: this.#lastRefreshOk,
      lastError: this.#lastError,
      pendingKids: this.#keys?.pendingKids ?? [],
    };
  }

  /**
   * The issuerKeys readiness check: a sentence (fail) while no key was ever loaded; a warning while the held keys
   * answer although the last refresh failed, or while a `kid` waits for its new material to verify a token.
   */
  readinessProblem(): string | { readonly warning: string } | undefined {
    const status = this.status();
    if (!status.loaded) return `the token issuer's keys are not loaded (${status.lastError ?? 'not fetched yet'})`;
    if (!status.lastRefreshOk) return { warning: `the last refresh of the issuer keys failed (${status.lastError}); cached keys are in use` };
    if (status.pendingKids.length > 0) {
      return { warning: `the issuer offers new key material for kid ${status.pendingKids.join(', ')}; the key held stays in use until the new one verifies a token` };
    }
    return undefined;
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
    if (due && this.#mayAttempt()) void this.refresh();
  }

  /**
   * A jose key resolver: finds the key for a token header. An unknown `kid` refetches the keys, and so does a token
   * while none are loaded, but at most once per cooldown: forged `kid`s cannot make the service flood the issuer.
   */
  readonly resolveKey = async (header: JWTHeaderParameters, token: FlattenedJWSInput): Promise<ResolvedKey> => {
    if (this.#keys === undefined) await this.#pendingRefresh();
    if (this.#keys === undefined) throw new errors.JWKSNoMatchingKey('the issuer keys are not loaded');
    this.refreshIfDue();
    try {
      return await this.#keys.resolve(header, token);
    } catch (error) {
      if (!(error instanceof errors.JWKSNoMatchingKey)) throw error;
      const refreshing = this.#pendingRefresh();
      if (refreshing === undefined) throw error;
      await refreshing;
      return this.#keys.resolve(header, token);
    }
  };

  /** The refresh under way (tokens arriving together with a new `kid` share it), else a new one if the cooldown allows. */
  #pendingRefresh(): Promise<void> | undefined {
    return this.#inFlight ?? (this.#mayAttempt() ? this.refresh() : undefined);
  }

  /** The cooldown after a good refresh; after failures it doubles with each one, up to maxBackoffMs. */
  #mayAttempt(): boolean {
    const { cooldownMs, maxBackoffMs } = this.#options;
    const wait = this.#failures === 0 ? cooldownMs : Math.max(cooldownMs, Math.min(cooldownMs * 2 ** (this.#failures - 1), maxBackoffMs));
    return this.#lastAttemptAt === 0 || Date.now() - this.#lastAttemptAt >= wait;
  }

  async #fetchKeys(): Promise<void> {
    this.#lastAttemptAt = Date.now();
    try {
      const metadata = await this.#getJson(this.#options.metadataUrl, 'metadata');
      const jwksUri = typeof metadata.jwks_uri === 'string' ? metadata.jwks_uri : undefined;
      if (jwksUri === undefined) throw new Error('the metadata has no jwks_uri');
      const jwks = await this.#getJson(jwksUri, 'JWKS');
      if (!Array.isArray(jwks.keys)) throw new Error('the JWKS has no keys array');
      const { usable, rejected } = usableSigningKeys(jwks.keys);
      if (usable.length === 0) {
        throw new Error(`the JWKS holds no usable RS256 signing key (${rejected.length === 0 ? 'it is empty' : rejected.slice(0, 5).join('; ')})`);
      }
      this.#keys = (this.#keys ?? SigningKeySet.empty()).withFreshKeys(usable);
      this.#loadedAt = Date.now();
      this.#lastRefreshOk = true;
      this.#lastError = undefined;
      this.#failures = 0;
      const pending = this.#keys.pendingKids;
      this.#options.onRefresh?.(
        true,
        `${this.#keys.size} keys` +
          (rejected.length > 0 ? `; ignored ${rejected.slice(0, 5).join('; ')}` : '') +
          (pending.length > 0 ? `; new material for kid ${pending.join(', ')} waits until it verifies a token` : ''),
      );
    } catch (error) {
      this.#failures += 1;
      this.#lastRefreshOk = false;
      this.#lastError = error instanceof Error ? error.message : 'unknown error';
      this.#options.onRefresh?.(false, this.#lastError);
    }
  }

  async #getJson(url: string, what: string): Promise<Record<string, unknown>> {
    // Readiness shows these sentences: they name the proxy (never its credentials) when one carries the request.
    const via = this.#outbound.describe(url);
    let response;
    try {
      response = await fetch(url, { signal: AbortSignal.timeout(this.#options.timeoutMs), redirect: 'error', dispatcher: this.#outbound.dispatcher });
    } catch (error) {
      throw new Error(`the ${what} endpoint could not be reached${via} (${failureCause(error)})`);
    }
    if (!response.ok) throw new Error(`the ${what} endpoint answered ${response.status}${via}`);
    const body: unknown = await response.json();
    if (typeof body !== 'object' || body === null) throw new Error(`the ${what} is not a JSON object`);
    return body as Record<string, unknown>;
  }
}

/** The innermost reason of a fetch failure (ECONNREFUSED, a proxy's refusal, a timeout), without URLs or headers. */
function failureCause(error: unknown): string {
  let current: unknown = error;
  while (current instanceof Error && current.cause !== undefined) current = current.cause;
  if (current instanceof Error) return (current as NodeJS.ErrnoException).code ?? current.message.slice(0, 200);
  return 'unknown error';
}
