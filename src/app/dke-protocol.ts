import type { Principal } from '../keys/access-policy.js';
import { isAllowed } from '../keys/access-policy.js';
import { AccessDenied, DkeError, KeyNotFound, KeyNotUsable, StoreUnavailable } from '../keys/errors.js';
import type { KeyRecord, KeyState, KeyVersion, RsaPublicKey } from '../keys/key-version.js';
import { canDecrypt, DELETED_STATE, findLiveVersion, servedVersion } from '../keys/lifecycle.js';
import { isValidKeyId, isValidKeyName } from '../keys/names.js';
import type { DurableAuditTrail, KeyStateStore, KeyVault, KeyVersionRef, ProtocolObserver } from '../keys/ports.js';
import { parseDecryptRequest } from './decrypt-request.js';
import type { ProvenanceGuard } from './provenance-guard.js';
import { PrivateKeyPresence } from './private-key-presence.js';
import type { PublicKeyResponse } from './public-key-response.js';
import { PublishedAnswer } from './published-key-answers.js';

/**
 * How old the key state behind a GET may be: a change another process made (the CLI, another instance on SQLite) is
 * published within this, this process's own at once, and Office caches what it fetched for hours anyway. Decrypts
 * check the state at each request.
 */
export const PUBLISHED_STATE_MAX_AGE_MS = 20;

export interface DkeProtocolDeps {
  readonly store: KeyStateStore;
  readonly vault: KeyVault;
  /** Decrypts are answered only after their entry is durable; `problem` says why it cannot be written now. */
  readonly audit: DurableAuditTrail & { readonly problem?: string | undefined };
  readonly publicKeyCacheHours: number;
  /** Told of every decision, for metrics (absent: nothing is counted). */
  readonly observer?: ProtocolObserver;
  /** Refuses versions whose evidence says they could have left the HSM; absent: every version is served. */
  readonly guard?: ProvenanceGuard;
  /** What the token records (issue 25): its emergency block and permanent states hold whatever the store says. */
  readonly anchor?: TokenAnchorView;
  /** Shared with the key views' status (main/open-service.ts); absent: the protocol keeps its own. */
  readonly presence?: PrivateKeyPresence;
  readonly now?: () => Date;
}

/** The token's records as the protocol asks them on every request: in memory, refreshed off the hot path (token-anchor.ts). */
export interface TokenAnchorView {
  blocked(): boolean;
  /** The permanent state (Deactivated, Compromised, Destroyed) the token records for this version, if any. */
  recorded(ref: KeyVersionRef): KeyState | undefined;
}

/** The two DKE protocol operations of contract §1: the public key (GET) and decrypt (POST). */
export class DkeProtocol {
  readonly #deps: DkeProtocolDeps;
  readonly #now: () => Date;
  /** GET answers by key record: the store replaces a record object on every change, so a kept answer is never stale. */
  readonly #answers = new WeakMap<KeyRecord, PublishedAnswer>();
  readonly #presence: PrivateKeyPresence;

  constructor(deps: DkeProtocolDeps) {
    this.#deps = deps;
    this.#now = deps.now ?? (() => new Date());
    this.#presence = deps.presence ?? new PrivateKeyPresence(deps.vault);
  }

  /** The published version's public key, or KeyNotFound when there is none that is Active and Enabled. */
  async publicKey(name: string, baseUrl: string): Promise<PublicKeyResponse> {
    return JSON.parse((await this.publicKeyBody(name, baseUrl)).toString('utf8')) as PublicKeyResponse;
  }

  /**
   * The JSON bytes of GET /{keyName}. Built once per change of the key record (and per second, for `cache.exp`); a
   * request for a published version whose private key is known to be in the token asks neither the token nor anything
   * but the store's in-memory snapshot.
   */
  async publicKeyBody(name: string, baseUrl: string): Promise<Buffer> {
    try {
      const { record, block } = this.#deps.store.lookup(name, PUBLISHED_STATE_MAX_AGE_MS);
      // The kill switch: nothing is published while it is on, exactly as for a disabled version (404).
      if (block !== undefined || this.#deps.anchor?.blocked() === true) throw new KeyNotFound('emergency block');
      const kept = record === undefined ? undefined : this.#answers.get(record);
      const answer = kept !== undefined && this.#presence.known(kept.version) === true ? kept : await this.#publishedAnswer(name, record);
      // A store restored to before a permanent step still names the version; the token's record does not (issue 25).
      if (this.#deps.anchor?.recorded(answer.version) !== undefined) throw new KeyNotFound(`the token records ${name}/${answer.version.keyId} as permanently out of use`);
      const body = answer.body(baseUrl, this.#now);
      this.#deps.observer?.publicKey(name, 'served');
      return body;
    } catch (error) {
      this.#deps.observer?.publicKey(this.#knownName(name), error instanceof DkeError ? error.code : 'internal_error');
      throw error;
    }
  }

  /**
   * Asks the token again whether each published version's private key is still there (run in the background; see
   * PrivateKeyPresence): a version whose key left the token stops being published (404) from then on.
   */
  async recheckPrivateKeys(): Promise<void> {
    const published = this.#deps.store.listKeys().flatMap((record) => servedVersion(record) ?? []);
    await this.#presence.recheck(published);
  }

  async #publishedAnswer(name: string, record: KeyRecord | undefined): Promise<PublishedAnswer> {
    if (!isValidKeyName(name)) throw new KeyNotFound('malformed key name');
    const version = record === undefined ? undefined : servedVersion(record);
    if (record === undefined || version === undefined) throw new KeyNotFound(`no served version for ${name}`);
    if (this.#deps.store.emergencyBlock() !== undefined) throw new KeyNotFound('emergency block');
    try {
      await this.#deps.guard?.assertServable(version);
    } catch (error) {
      if (error instanceof KeyNotUsable) throw new KeyNotFound(error.detail);
      throw error;
    }
    const key = await this.#publicKeyOf(version);
    // Office would protect new documents with a key that can never open them (issue 17).
    if (!(await this.#presence.present(version))) throw new KeyNotFound(`the private key of ${name}/${version.keyId} is missing from the token`);
    const answer = new PublishedAnswer(version, key, this.#deps.publicKeyCacheHours);
    this.#answers.set(record, answer);
    return answer;
  }

  /**
   * Decrypts `body` with one key version for `principal`, in contract §1's order, and records the decision in the
   * audit trail. Step 1, authentication (401), happened before, in the HTTP layer. Nothing before step 6 asks the
   * HSM: the state and the public key come from the key record, so a bad body is a 400 even while the HSM is away.
   * The answer leaves only once the decision's audit entry is durable; when it cannot be written the caller gets
   * 503 (StoreUnavailable) and no plaintext (issue 17).
   */
  async decrypt(principal: Principal, name: string, keyId: string, body: Buffer): Promise<{ value: string }> {
    const started = process.hrtime.bigint();
    const seconds = (): number => Number(process.hrtime.bigint() - started) / 1e9;
    let plaintext: Buffer;
    try {
      // 2. Find the key name and the version (404): malformed, unknown and Destroyed all look the same.
      if (!isValidKeyName(name) || !isValidKeyId(keyId)) throw new KeyNotFound('malformed key name or id');
      // One snapshot, checked now, for the record and the kill switch.
      const { record, block } = this.#deps.store.lookup(name);
      const version = record === undefined ? undefined : findLiveVersion(record, keyId);
      if (record === undefined || version === undefined) throw new KeyNotFound(`${name}/${keyId} unknown`);
      // 3. Authorize the user on this key name (403).
      if (!isAllowed(principal, record.allow)) throw new AccessDenied(`${principal.oid} not on the allow list of ${name}`);
      // 4. The version is Enabled and Active (403), and the kill switch is off (the same 403: no new oracle).
      if (!canDecrypt(version)) throw new KeyNotUsable(`state ${version.state}, enabled ${version.enabled}`);
      if (block !== undefined || this.#deps.anchor?.blocked() === true) throw new KeyNotUsable('emergency block');
      // A version the token records as Destroyed answers as Destroyed does (404), before the store has caught up.
      const recorded = this.#deps.anchor?.recorded(version);
      if (recorded === DELETED_STATE) throw new KeyNotFound(`the token records ${name}/${keyId} as destroyed`);
      if (recorded !== undefined) throw new KeyNotUsable('the token records a permanent state');
      // 5. Validate the body against the modulus kept in the record (400).
      const ciphertext = parseDecryptRequest(body, (await this.#publicKeyOf(version)).modulus);
      // Beyond the contract: a version the token says could have left the HSM never decrypts (403, as step 4).
      await this.#deps.guard?.assertServable(version);
      // No token work for an answer that could not be recorded anyway.
      const auditProblem = this.#deps.audit.problem;
      if (auditProblem !== undefined) throw new StoreUnavailable(auditProblem);
      // 6. Decrypt in the HSM, one C_Decrypt (400 when it does not decrypt, 503 when the HSM is unavailable).
      plaintext = await this.#decryptInToken(version, ciphertext);
    } catch (error) {
      const reason = error instanceof DkeError ? error.code : 'internal_error';
      this.#deps.observer?.decrypt(this.#knownName(name), reason, seconds());
      await this.#record(principal, name, keyId, reason === 'access_denied' || reason === 'key_not_usable' ? 'denied' : 'failed', reason);
      throw error;
    }
    try {
      await this.#record(principal, name, keyId, 'allowed', 'decrypted');
    } catch (error) {
      plaintext.fill(0);
      this.#deps.observer?.decrypt(name, error instanceof DkeError ? error.code : 'internal_error', seconds());
      throw error;
    }
    this.#deps.observer?.decrypt(name, 'decrypted', seconds());
    return { value: plaintext.toString('base64') };
  }

  /** The record's public key; only a version recorded before public keys were kept, and not backfilled yet, asks the token. */
  async #publicKeyOf(version: KeyVersion): Promise<RsaPublicKey> {
    return version.publicKey ?? this.#deps.vault.publicKey(version);
  }

  /**
   * The token's decrypt; a private key found missing there, or one the token refuses to decrypt with (an unfinished
   * Compromise or Deactivate, issue 25), is no longer published from now on.
   */
  async #decryptInToken(version: KeyVersion, ciphertext: Buffer): Promise<Buffer> {
    try {
      return await this.#timedVaultDecrypt(version, ciphertext);
    } catch (error) {
      if (error instanceof KeyNotFound) this.#presence.markMissing(version);
      if (error instanceof KeyNotUsable) this.#presence.markRefused(version);
      throw error;
    }
  }

  /** Readiness's self-test found that the token refuses (or lacks) this version's key: stop publishing it now. */
  versionRefusedByToken(version: KeyVersionRef, missing: boolean): void {
    if (missing) this.#presence.markMissing(version);
    else this.#presence.markRefused(version);
  }

  async #timedVaultDecrypt(version: KeyVersion, ciphertext: Buffer): Promise<Buffer> {
    const observer = this.#deps.observer;
    if (observer === undefined) return this.#deps.vault.decrypt(version, ciphertext);
    const started = process.hrtime.bigint();
    const seconds = (): number => Number(process.hrtime.bigint() - started) / 1e9;
    try {
      const plaintext = await this.#deps.vault.decrypt(version, ciphertext);
      observer.hsmDecrypt('ok', seconds());
      return plaintext;
    } catch (error) {
      observer.hsmDecrypt('error', seconds());
      throw error;
    }
  }

  /** A name fit for a metrics label: only names of existing keys, so callers cannot grow the label set. */
  #knownName(name: string): string | undefined {
    return isValidKeyName(name) && this.#deps.store.findKey(name) !== undefined ? name : undefined;
  }

  /** Settles once the entry is durable; rejects with StoreUnavailable when it cannot be written (then only 503 leaves). */
  #record(principal: Principal, name: string, keyId: string, outcome: 'allowed' | 'denied' | 'failed', reason: string): Promise<void> {
    return this.#deps.audit.record({
      actor: `${principal.oid} (${principal.auditName ?? 'no name'})`,
      action: 'decrypt',
      keyName: name,
      keyId,
      outcome,
      reason,
      details: { tenant: principal.tenantId, oid: principal.oid, upn: principal.auditName ?? null },
    });
  }
}
