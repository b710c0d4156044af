import { HsmUnavailable } from '../keys/errors.js';
import { classifyCkr, ckrName, domainErrorFor, type CkrClass } from './ckr-classes.js';
import { HsmConfigurationError } from '../keys/errors.js';
import type { HsmState } from '../keys/vocabulary.js';
import type { Handle } from './pkcs11.js';
import type { Pkcs11Token } from './pkcs11-token.js';
import { SessionPool } from './session-pool.js';

export type { HsmState };

export interface HsmStatus {
  readonly state: HsmState;
  readonly detail: string | undefined;
  readonly since: string;
  readonly recoveries: number;
}

export interface HsmEvents {
  /** Every PKCS#11 error an operation met, by class (metrics). */
  onError?(errorClass: CkrClass): void;
  onDown?(detail: string): void;
  onRecovered?(millis: number): void;
  onMisconfigured?(detail: string): void;
  /** Cached object handles are void after a reset. */
  onReset?(): void;
}

const FIRST_BACKOFF_MS = 500;
const MAX_BACKOFF_MS = 30_000;
/** Longest wait for in-flight operations before the sessions are replaced anyway. */
const DRAIN_TIMEOUT_MS = 5_000;

/**
 * The service's link to the token, and the one place PKCS#11 faults are handled (issue 6):
 * - transient (device, session or login lost): drop every session, open new ones, log in again, let cached handles go,
 *   and retry the failed operation once; while that fails, answer 503 with Retry-After and retry in the background
 *   with exponential backoff, so the service recovers without a restart;
 * - configuration (PIN refused, mechanism missing): stop and say so; a refused PIN is never tried again, since tokens
 *   lock after a few wrong ones;
 * - request (bad ciphertext): not a fault; passed on to become the uniform 400.
 */
export class HsmConnection {
  readonly pool: SessionPool;
  readonly #token: Pkcs11Token;
  readonly #size: number;
  readonly #events: HsmEvents;
  #state: HsmState = 'down';
  #detail: string | undefined = 'not opened yet';
  #since = new Date().toISOString();
  #recoveries = 0;
  #recovery: Promise<void> | undefined;
  #backoffMs = FIRST_BACKOFF_MS;
  #retryTimer: NodeJS.Timeout | undefined;
  #closed = false;
  /** Work running on sessions of its own beside the pool (the probe): a recovery and close() wait for it too. */
  #besidePool = 0;

  constructor(token: Pkcs11Token, size: number, queueTimeoutMs: number, events: HsmEvents = {}) {
    this.#token = token;
    this.#size = size;
    this.#events = events;
    this.pool = new SessionPool(queueTimeoutMs);
  }

  get token(): Pkcs11Token {
    return this.#token;
  }

  status(): HsmStatus {
    return { state: this.#state, detail: this.#detail, since: this.#since, recoveries: this.#recoveries };
  }

  /** Opens the sessions and logs in; a configuration error is recorded and rethrown (start-up decides what to do). */
  connect(): void {
    try {
      this.pool.fill(this.#openSessions());
      this.#enter('up', undefined);
    } catch (error) {
      if (error instanceof HsmConfigurationError || classifyCkr(error) === 'configuration') {
        const sentence = error instanceof HsmConfigurationError ? error.message : `the token refused the service: ${ckrName(error)}`;
        this.#enter('misconfigured', sentence);
        this.#events.onMisconfigured?.(sentence);
        throw error instanceof HsmConfigurationError ? error : new HsmConfigurationError(sentence);
      }
      throw error;
    }
  }

  /** The token could not even be opened (its module or its token is missing): no operation runs, and it says why. */
  refuse(sentence: string): void {
    this.#enter('misconfigured', sentence);
    this.#events.onMisconfigured?.(sentence);
  }

  /**
   * Runs `work` on a pooled session; a transient fault triggers one recovery and one retry. Every PKCS#11 error is
   * classified here, once, and leaves as the domain's error (domainErrorFor).
   */
  async withSession<T>(work: (session: Handle) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt += 1) {
      await this.#ready();
      const session = await this.pool.acquire();
      try {
        return await work(session);
      } catch (error) {
        const errorClass = classifyCkr(error);
        this.#events.onError?.(errorClass);
        if (errorClass !== 'transient') throw domainErrorFor(error, errorClass);
        this.#startRecovery(ckrName(error));
        if (attempt >= 2) throw new HsmUnavailable(`${ckrName(error)} again after recovery`, this.#retryAfterSeconds());
      } finally {
        this.pool.release(session);
      }
    }
  }

  /**
   * Runs work that opens sessions of its own on the token, beside the pool (the probe of the admin API): it starts after
   * a recovery under way, and a recovery or close() that begins meanwhile waits for it, as for pooled work, before any
   * session is closed or the module started afresh under it.
   */
  async besidePool<T>(work: () => Promise<T>): Promise<T> {
    if (this.#closed) throw new HsmUnavailable('the HSM connection is closed');
    await this.#recovery?.catch(() => undefined);
    this.#besidePool += 1;
    try {
      return await work();
    } finally {
      this.#besidePool -= 1;
    }
  }

  /** Replaces every session now (a test, or an operator after a token maintenance). */
  recover(reason = 'requested'): Promise<void> {
    this.#startRecovery(reason);
    return this.#recovery ?? Promise.resolve();
  }

  /**
   * Refuses new operations and closes the idle sessions, then waits (bounded) for the operations in flight: finalising
   * the module under one still running on another thread would pull its state away mid-call (a crash, not an error).
   * Their sessions come back to the emptied pool, which drops them; finalising the module (Pkcs11Token.close) ends them.
   */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#retryTimer);
    for (const session of this.pool.drain()) this.#token.closeSession(session);
    await this.#recovery?.catch(() => undefined);
    await this.#drain();
  }

  async #ready(): Promise<void> {
    if (this.#closed) throw new HsmUnavailable('the HSM connection is closed');
    if (this.#state === 'up') return;
    if (this.#state === 'misconfigured') throw new HsmUnavailable(this.#detail, 60);
    if (this.#recovery !== undefined) await this.#recovery;
    if ((this.#state as HsmState) !== 'up') throw new HsmUnavailable(this.#detail, this.#retryAfterSeconds());
  }

  #startRecovery(reason: string): void {
    if (this.#recovery !== undefined || this.#state === 'misconfigured' || this.#closed) return;
    const started = Date.now();
    this.#enter('recovering', reason);
    this.#events.onDown?.(reason);
    this.#recovery = this.#drain()
      .then(() => this.#reconnect())
      .then(
        () => {
          this.#recoveries += 1;
          this.#backoffMs = FIRST_BACKOFF_MS;
          this.#enter('up', undefined);
          this.#events.onRecovered?.(Date.now() - started);
        },
        (error: unknown) => {
          if (error instanceof HsmConfigurationError) {
            this.#enter('misconfigured', error.message);
            this.#events.onMisconfigured?.(error.message);
            return;
          }
          this.#enter('down', `${reason}; reconnecting failed: ${ckrName(error)}`);
          this.#retryTimer = setTimeout(() => this.#startRecovery(reason), this.#backoffMs);
          this.#retryTimer.unref();
          this.#backoffMs = Math.min(this.#backoffMs * 2, MAX_BACKOFF_MS);
        },
      )
      .finally(() => {
        this.#recovery = undefined;
      });
  }

  /**
   * Waits (bounded) until no operation runs on any session: closing a session another thread is using can crash a
   * token library (NSS softoken does). New operations already wait for the recovery in `#ready`.
   */
  async #drain(): Promise<void> {
    const deadline = Date.now() + DRAIN_TIMEOUT_MS;
    while ((this.pool.inUse > 0 || this.#besidePool > 0) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
  }

  #reconnect(): void {
    for (const session of this.pool.invalidateAll()) this.#token.closeSession(session);
    if (this.#closed) return;
    try {
      this.#token.closeAllSessions();
    } catch {
      // The sessions may already be gone with the device.
    }
    this.#events.onReset?.();
    let sessions: Handle[];
    try {
      sessions = this.#openSessions();
    } catch (error) {
      if (error instanceof HsmConfigurationError) throw error;
      // Sessions will not open (token removed, module lost its state): start the module afresh once.
      this.#token.close();
      this.#token.open();
      sessions = this.#openSessions();
    }
    if (this.#closed) {
      for (const session of sessions) this.#token.closeSession(session);
      return;
    }
    this.pool.fill(sessions);
  }

  #openSessions(): Handle[] {
    const sessions: Handle[] = [];
    try {
      const first = this.#token.openSession();
      sessions.push(first);
      this.#token.login(first);
      while (sessions.length < this.#size) sessions.push(this.#token.openSession());
      return sessions;
    } catch (error) {
      for (const session of sessions) this.#token.closeSession(session);
      throw error;
    }
  }

  #retryAfterSeconds(): number {
    return Math.max(1, Math.ceil(this.#backoffMs / 1000));
  }

  #enter(state: HsmState, detail: string | undefined): void {
    if (state !== this.#state) this.#since = new Date().toISOString();
    this.#state = state;
    this.#detail = detail;
  }
}
