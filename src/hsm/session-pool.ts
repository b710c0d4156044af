import { HsmUnavailable } from '../keys/errors.js';
import type { Handle } from './pkcs11.js';

interface Waiter {
  resolve(session: Handle): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

/**
 * A fixed set of PKCS#11 sessions, each carrying at most one operation at a time (PKCS#11 allows one active
 * operation per session). Callers wait in FIFO order for at most `queueTimeoutMs`, then get HsmUnavailable (503 +
 * Retry-After): the queue is bounded in time, never unbounded.
 */
export class SessionPool {
  readonly #idle: Handle[] = [];
  readonly #waiters: Waiter[] = [];
  readonly #queueTimeoutMs: number;
  #size = 0;
  #inUse = 0;
  #closed = false;

  constructor(queueTimeoutMs: number) {
    this.#queueTimeoutMs = queueTimeoutMs;
  }

  get size(): number {
    return this.#size;
  }

  get inUse(): number {
    return this.#inUse;
  }

  get waiting(): number {
    return this.#waiters.length;
  }

  /** Adds sessions to the pool (at start, or after a reconnect). */
  fill(sessions: readonly Handle[]): void {
    this.#closed = false;
    for (const session of sessions) {
      this.#size += 1;
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
    return new Promise<Handle>((resolve, reject) => {
      const waiter: Waiter = {
        resolve,
        reject,
        timer: setTimeout(() => {
          const index = this.#waiters.indexOf(waiter);
          if (index >= 0) this.#waiters.splice(index, 1);
          reject(new HsmUnavailable('no HSM session became free in time'));
        }, this.#queueTimeoutMs),
      };
      this.#waiters.push(waiter);
    });
  }

  /** Gives a session back; the next waiter, if any, gets it at once. */
  release(session: Handle): void {
    this.#inUse -= 1;
    this.#handOver(session);
  }

  /** Forgets a session that the token invalidated; the caller replaces it with `fill`. */
  discard(): void {
    this.#inUse -= 1;
    this.#size -= 1;
  }

  /** Runs `work` on a session and always gives it back. */
  async use<T>(work: (session: Handle) => Promise<T>): Promise<T> {
    const session = await this.acquire();
    try {
      return await work(session);
    } finally {
      this.release(session);
    }
  }

  /** Takes every idle session out (to close them) and fails the waiters. */
  drain(): Handle[] {
    this.#closed = true;
    for (const waiter of this.#waiters.splice(0)) {
      clearTimeout(waiter.timer);
      waiter.reject(new HsmUnavailable('session pool closed'));
    }
    const sessions = this.#idle.splice(0);
    this.#size -= sessions.length;
    return sessions;
  }

  #handOver(session: Handle): void {
    if (this.#closed) {
      this.#idle.push(session);
      return;
    }
    const waiter = this.#waiters.shift();
    if (waiter === undefined) {
      this.#idle.push(session);
      return;
    }
    clearTimeout(waiter.timer);
    this.#inUse += 1;
    waiter.resolve(session);
  }
}
