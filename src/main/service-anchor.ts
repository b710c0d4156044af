import { TokenAnchor } from '../app/token-anchor.js';
import type { SessionPool } from '../hsm/session-pool.js';
import type { KeyVault, Logger } from '../keys/ports.js';
import type { StoreAuditTrail } from '../store/audit-trail.js';
import type { KeyStore } from '../store/key-store.js';
import type { ServiceAdmin } from './service-admin.js';
import type { BackgroundTimers } from './service-jobs.js';

/** How often the token's record of the emergency block is read: contract §5 wants a block enforced within 1 s. */
export const BLOCK_POLL_MS = 250;
/** How often the permanent states the token records are compared with the store. */
export const ANCHOR_INTERVAL_MS = 2_000;
/**
 * How often the audit head is anchored ("every few seconds"): creating a token object is synchronous in pkcs11js, on
 * the event loop (about 12 ms on NSS softoken here), so it is not done at every comparison.
 */
export const HEAD_ANCHOR_MS = 5_000;

/**
 * Issue 25: the token's records checked at start (before the first request) and then in the background, each job
 * never running twice at once. Failures are logged at debug level: the token and store checks of readiness say more.
 */
export async function anchorOnToken(timers: BackgroundTimers, parts: AnchorParts, logger: Logger, intervalMs = ANCHOR_INTERVAL_MS): Promise<TokenAnchor> {
  const restorer = parts.admin.adminAs('token-anchor');
  const anchor = new TokenAnchor({ ...parts, applyRecords: (behind) => restorer.applyTokenRecords(behind), logger });
  const pollBlock = serialised(() => anchor.pollBlock(), 'emergency block record', logger);
  let headAnchoredAt = 0;
  const reconcile = serialised(async () => {
    await anchor.reconcile();
    if (Date.now() - headAnchoredAt < HEAD_ANCHOR_MS) return;
    headAnchoredAt = Date.now();
    await anchor.anchorAuditHead();
  }, 'token records', logger);
  await Promise.all([pollBlock(), reconcile()]);
  // Off the hot path: a tick never queues for a session ahead of a decrypt; while every session is busy it is skipped.
  const sessionFree = (): boolean => {
    const pool = parts.pool();
    return pool.waiting === 0 && pool.inUse < pool.size;
  };
  // (So a block reaches an instance cut off from the database within 1 s unless every session stays busy meanwhile.)
  timers.every(BLOCK_POLL_MS, () => void (sessionFree() && pollBlock()));
  timers.every(intervalMs, () => void (sessionFree() && reconcile()));
  return anchor;
}

/** What the token anchor works on: the store, the token (and its session pool), the trail, and the admin it acts as. */
export interface AnchorParts {
  readonly store: KeyStore;
  readonly vault: KeyVault;
  /** The pool now (a token reset replaces it). */
  readonly pool: () => Pick<SessionPool, 'size' | 'inUse' | 'waiting'>;
  readonly audit: StoreAuditTrail;
  readonly admin: ServiceAdmin;
}

/** A background job that skips a tick while its previous run is still going, and logs instead of throwing. */
function serialised(work: () => Promise<void>, what: string, logger: Logger): () => Promise<void> {
  let running: Promise<void> | undefined;
  return () => {
    running ??= work()
      .catch((error: unknown) => void logger.debug(`${what} not checked this time`, { error: error instanceof Error ? error.message : String(error) }))
      .finally(() => {
        running = undefined;
      });
    return running;
  };
}
