import type { KeyVersion, RsaPublicKey } from '../keys/key-version.js';
import { buildKid } from '../keys/names.js';
import { publicKeyResponse } from './public-key-response.js';

/** Host names a served answer is kept for (DKE_AUTH_AUDIENCE's hosts: few); past this the cache starts afresh. */
const MAX_BASE_URLS = 32;

/** The published version of one key record and its GET body, serialised once per base URL and second. */
export class PublishedAnswer {
  readonly version: KeyVersion;
  readonly #key: RsaPublicKey;
  readonly #cacheHours: number;
  readonly #bodies = new Map<string, { readonly second: number; readonly body: Buffer }>();

  constructor(version: KeyVersion, key: RsaPublicKey, cacheHours: number) {
    this.version = version;
    this.#key = key;
    this.#cacheHours = cacheHours;
  }

  /** The JSON bytes of GET /{keyName} for `baseUrl` at `now` (`cache.exp` counts whole seconds from now). */
  body(baseUrl: string, now: () => Date): Buffer {
    const at = now();
    const second = this.#cacheHours > 0 ? Math.floor(at.getTime() / 1000) : 0;
    const kept = this.#bodies.get(baseUrl);
    if (kept !== undefined && kept.second === second) return kept.body;
    if (kept === undefined && this.#bodies.size >= MAX_BASE_URLS) this.#bodies.clear();
    const kid = buildKid(baseUrl, this.version.name, this.version.keyId);
    const body = Buffer.from(JSON.stringify(publicKeyResponse(this.#key, kid, this.#cacheHours, at)));
    this.#bodies.set(baseUrl, { second, body });
    return body;
  }
}
