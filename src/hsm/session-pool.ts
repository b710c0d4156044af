import { HsmBusy, HsmUnavailable } from '../keys/errors.js';
import type { Handle } from './pkcs11.js';

interface Waiter {
  resolve(session: Handle): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

/**
 * A fixed set of PKCS#11 sessions, each carrying at most one operation at a time (PKCS#11 allows one active
 * operation per session). Callers wait in FIFO order for at most `queueTimeoutMs`, then get HsmUnavailable (503 +
 * Retry-After): the queue is bounded in time, never unbounded. After a token fault the whole set is replaced
 * (`invalidateAll` then `fill`): sessions still in use when that happens are dropped when they come back.
 */
export class SessionPool {
  readonly #idle: Handle[] = [];
  readonly #valid = new Set<string>();
  readonly #waiters: Waiter[] = [];
  readonly #queueTimeoutMs: number;
  #inUse = 0;
  /** Sessions given back so far: a waiter that times out compares it with the count when it started waiting. */
  #releases = 0;
  #closed = false;

  constructor(queueTimeoutMs: number) {
    this.#queueTimeoutMs = queueTimeoutMs;
  }

  get size(): number {
    return this.#valid.size;
  }

  get inUse(): number {
    return this.#inUse;
  }

  get waiting(): number {
    return this.#waiters.length;
  }

  /** Adds sessions to the pool (at start, or after a reconnect); waiters get them at once. */
  fill(sessions: readonly Handle[]): void {
    this.#closed = false;
    for (const session of sessions) {
      this.#valid.add(key(session));
      this.#handOver(session);
    }
  }

  acquire(): Promise<Handle> {
    if (this.#closed) return Promise.reject(new HsmUnavailable('session pool closed'));
    const session = this.#idle.pop();
    if (session !== undefined) {
      this.#inUse += 1;
      return Promise.resolve(session);
    }
    const releasesAtStart = this.#releases;
    return new Promise<Handle>((resolve, reject) => {
      const waiter: Waiter = {
        resolve,
        reject,
        timer: setTimeout(() => {
          const index = this.#waiters.indexOf(waiter);
          if (index >= 0) this.#waiters.splice(index, 1);
          reject(new HsmBusy(this.#releases > releasesAtStart));
        }, this.#queueTimeoutMs),
      };
      this.#waiters.push(waiter);
    });
  }

  /** Gives a session back; the next waiter, if any, gets it at once. A session from before a reset is dropped. */
  release(session: Handle): void {
    this.#inUse -= 1;
    this.#releases += 1;
    if (this.#valid.has(key(session))) this.#handOver(session);
  }

  /** The sessions not in use right now (diagnostics and fault tests: closing one under load is safe). */
  idleSessions(): readonly Handle[] {
    return [...this.#idle];
  }

  /** Forgets every session (the token invalidated them); returns the idle ones so the caller can close them. */
  invalidateAll(): Handle[] {
    this.#valid.clear();
    return this.#idle.splice(0);
  }

  /** Takes every idle session out (to close them) and fails the waiters. */
  drain(): Handle[] {
    this.#closed = true;
    for (const waiter of this.#waiters.splice(0)) {
      clearTimeout(waiter.timer);
      waiter.reject(new HsmUnavailable('session pool closed'));
    }
    this.#valid.clear();
    return this.#idle.splice(0);
  }

  #handOver(session: Handle): void {
    const waiter = this.#closed ? undefined : this.#waiters.shift();
    if (waiter === undefined) {
      this.#idle.push(session);
      return;
    }
    clearTimeout(waiter.timer);
    this.#inUse += 1;
    waiter.resolve(session);
  }
}

function key(session: Handle): string {
  return session.toString('hex');
}
