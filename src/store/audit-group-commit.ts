import { StoreUnavailable } from '../keys/errors.js';
import type { AuditEvent } from '../keys/ports.js';
import type { QueuedEntry } from './audit-chain.js';

export type { QueuedEntry };

export interface GroupCommitOptions {
  /** Writes the entries, chained in order, in one transaction; rejects when that cannot be done. */
  readonly write: (entries: readonly QueuedEntry[]) => Promise<void>;
  /** How long entries gather before their batch is written. */
  readonly intervalMs: number;
  /** How long an entry may wait for a failing store before its request is refused (503). */
  readonly waitLimitMs: number;
  readonly now?: () => Date;
  /** The engine's error in words (SQLITE_FULL, SQLITE_BUSY, ...), for the outage entry and the refusals. */
  readonly describeError: (error: unknown) => string;
  /** Told when writing has failed for longer than `waitLimitMs`, and when it works again. */
  readonly onFailing?: (reason: string) => void;
  readonly onRecovered?: (since: string, reason: string) => void;
}

interface Waiter {
  readonly entry: QueuedEntry;
  readonly deadline: number;
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

const MAX_RETRY_MS = 250;

/**
 * Group commit of decrypt entries: concurrent decisions are written together in one transaction every few
 * milliseconds, and each caller's promise settles only after that commit, so a 200 never exists without its entry.
 *
 * A write that fails (SQLITE_FULL, SQLITE_BUSY from a lock held elsewhere, SQLITE_CORRUPT, the store file gone) is
 * retried on a timer, never by waiting inside SQLite: the service's connection has no busy timeout, so a held lock
 * cannot stall the event loop. Entries that wait longer than `waitLimitMs` are refused; from then on the trail is
 * failing and new decrypts are refused at once, while an "audit-outage" entry keeps being retried. When it commits,
 * the outage (its start and cause) is on the chain and decrypts are accepted again: recovery needs no restart.
 * Nothing here throws out of a timer.
 */
export class AuditGroupCommit {
  readonly #options: GroupCommitOptions;
  readonly #now: () => Date;
  #waiters: Waiter[] = [];
  #timer: NodeJS.Timeout | undefined;
  #retryMs = 0;
  #lastError: string | undefined;
  #failing: { since: string; reason: string; entry: QueuedEntry } | undefined;
  /** The batch being written: one at a time, so no entry is ever written twice. */
  #flushing: Promise<void> | undefined;

  constructor(options: GroupCommitOptions) {
    this.#options = options;
    this.#now = options.now ?? (() => new Date());
  }

  /** Why entries cannot be written, once that has lasted past the wait limit; undefined while writing works. */
  get problem(): string | undefined {
    return this.#failing === undefined ? undefined : `the audit trail cannot be written since ${this.#failing.since}: ${this.#lastError ?? this.#failing.reason}`;
  }

  /** Resolves once the entry is committed; rejects with StoreUnavailable when it cannot be. */
  submit(event: AuditEvent): Promise<void> {
    if (this.#failing !== undefined) return Promise.reject(new StoreUnavailable(this.problem));
    return new Promise<void>((resolve, reject) => {
      const now = this.#now();
      this.#waiters.push({ entry: { at: now.toISOString(), event }, deadline: now.getTime() + this.#options.waitLimitMs, resolve, reject });
      this.#schedule(this.#options.intervalMs);
    });
  }

  /** Writes whatever waits now (at close); refuses what cannot be written. */
  async drain(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#flushing;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (!(await this.#attempt())) this.#rejectWaiting(() => true);
  }

  #schedule(delayMs: number): void {
    if (this.#flushing !== undefined) return; // the batch in flight schedules the next one when it ends
    this.#timer ??= setTimeout(() => {
      this.#timer = undefined;
      this.#flushing = this.#flush().finally(() => {
        this.#flushing = undefined;
        if (this.#waiters.length > 0 || this.#failing !== undefined) this.#schedule(this.#retryMs || this.#options.intervalMs);
      });
    }, delayMs);
  }

  async #flush(): Promise<void> {
    if (await this.#attempt()) {
      this.#retryMs = 0;
      return;
    }
    const now = this.#now().getTime();
    const expired = this.#rejectWaiting((w) => w.deadline <= now);
    if (expired && this.#failing === undefined) this.#startOutage();
    this.#retryMs = Math.min(MAX_RETRY_MS, Math.max(5, this.#retryMs * 2));
  }

  /** One transaction with the outage entry (if any) and every waiting entry. True when it committed. */
  async #attempt(): Promise<boolean> {
    const outage = this.#failing;
    const batch = this.#waiters.slice();
    if (batch.length === 0 && outage === undefined) return true;
    const entries = batch.map((w) => w.entry);
    if (outage !== undefined) {
      outage.entry.at = this.#now().toISOString();
      entries.unshift(outage.entry);
    }
    try {
      await this.#options.write(entries);
    } catch (error) {
      this.#lastError = this.#options.describeError(error);
      return false;
    }
    this.#waiters.splice(0, batch.length);
    for (const waiter of batch) waiter.resolve();
    this.#lastError = undefined;
    if (outage !== undefined) {
      this.#failing = undefined;
      this.#options.onRecovered?.(outage.since, outage.reason);
    }
    return true;
  }

  #startOutage(): void {
    const since = this.#now().toISOString();
    const reason = this.#lastError ?? 'unknown error';
    this.#failing = {
      since,
      reason,
      entry: {
        at: since,
        event: {
          actor: 'dke-service',
          action: 'audit-outage',
          outcome: 'failed',
          reason: `the audit trail could not be written from ${since}; decrypts were refused until this entry was written`,
          details: { since, cause: reason },
        },
      },
    };
    this.#options.onFailing?.(reason);
  }

  #rejectWaiting(which: (waiter: Waiter) => boolean): boolean {
    const rejected = this.#waiters.filter(which);
    if (rejected.length === 0) return false;
    this.#waiters = this.#waiters.filter((w) => !which(w));
    const error = new StoreUnavailable(`audit entry not written: ${this.#lastError ?? 'unknown error'}`);
    for (const waiter of rejected) waiter.reject(error);
    return true;
  }
}
