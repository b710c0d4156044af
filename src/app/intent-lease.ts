import type { Intent, KeyStateStore } from '../keys/ports.js';

/**
 * How long an intent's holder keeps it without renewing (issue 25): a few seconds, renewed while its step runs, so an
 * unfinished step of a process that is gone (killed, a pod that never came back, a command on another host) is taken
 * over within seconds of the database answering. Only tests shorten it (main/test-seams.ts).
 */
export const DEFAULT_INTENT_LEASE_MS = 5_000;

/** The end of a lease of `leaseMs` taken at `now`. */
export function leaseEnd(now: Date, leaseMs: number): string {
  return new Date(now.getTime() + leaseMs).toISOString();
}

/**
 * Runs `work` (the token step of an intent) while its holder renews the lease every third of it. A renewal that
 * fails (the database away) is not retried sooner: the lease then passes, and whoever takes the intent over after it
 * finishes the step, which is what a holder that cannot reach the database needs.
 */
export async function holdingLease<T>(store: KeyStateStore, intent: Intent, leaseMs: number, now: () => Date, work: () => Promise<T>): Promise<T> {
  const timer = setInterval(() => {
    store.renewIntentLease(intent.id, intent.owner, leaseEnd(now(), leaseMs)).catch(() => false);
  }, Math.max(10, Math.floor(leaseMs / 3)));
  timer.unref();
  try {
    return await work();
  } finally {
    clearInterval(timer);
  }
}
