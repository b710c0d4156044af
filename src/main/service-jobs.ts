import { join } from 'node:path';
import type { DkeProtocol } from '../app/dke-protocol.js';
import type { Readiness } from '../app/readiness.js';
import { leaseHasPassed } from '../app/intent-takeover.js';
import { Scheduler } from '../app/scheduler.js';
import type { Config } from '../config/config.js';
import { RetryLater } from '../keys/errors.js';
import type { ArchiveResult, Logger } from '../keys/ports.js';
import type { StoreAuditTrail } from '../store/audit-trail.js';
import type { KeyStore } from '../store/key-store.js';
import type { ServiceAdmin } from './service-admin.js';

/** How often audit retention (DKE_AUDIT_RETENTION) looks for entries to archive. */
const RETENTION_INTERVAL_MS = 3_600_000;
/** How often the background jobs run (deletion window); one instance at a time, under the store's lease. */
const SCHEDULER_INTERVAL_MS = 30_000;
/**
 * How often every instance looks for unfinished admin steps whose holder's lease has passed (issue 25): one small
 * read, so a step is finished within about a second of its lease passing and the database answering.
 */
const TAKEOVER_INTERVAL_MS = 1_000;
/** How often readiness re-runs its checks in the background (probes read the last result). */
const READINESS_INTERVAL_MS = 15_000;
/** How often GET's knowledge that each published private key is still in the token is refreshed (issue 17, 19). */
export const PRIVATE_KEY_RECHECK_MS = 10_000;

/** The service's timers: each runs its work in the background (unref'd, so none keeps the process alive). */
export class BackgroundTimers {
  readonly #timers: NodeJS.Timeout[] = [];

  every(ms: number, work: () => void): void {
    const timer = setInterval(work, ms);
    timer.unref();
    this.#timers.push(timer);
  }

  stop(): void {
    for (const timer of this.#timers) clearInterval(timer);
  }
}

/** GET's knowledge that each published private key is still in the token, refreshed in the background. */
export function recheckPrivateKeys(timers: BackgroundTimers, protocol: DkeProtocol, logger: Logger, intervalMs = PRIVATE_KEY_RECHECK_MS): void {
  timers.every(intervalMs, () => {
    protocol.recheckPrivateKeys().catch((error: unknown) => logger.error('private key recheck failed', { error: String(error) }));
  });
}

/** Readiness checked now and then periodically (probes read the last result). */
export async function checkReadiness(timers: BackgroundTimers, readiness: Readiness, logger: Logger): Promise<void> {
  await readiness.check();
  timers.every(READINESS_INTERVAL_MS, () => {
    readiness.check().catch((error: unknown) => logger.error('readiness check failed', { error: String(error) }));
  });
}

/** Audit retention at start and hourly; returns the run itself (the service's archiveExpiredAudit). */
export async function keepAuditRetention(timers: BackgroundTimers, audit: StoreAuditTrail, config: Config, logger: Logger): Promise<() => Promise<ArchiveResult[]>> {
  const archiveExpiredAudit = (): Promise<ArchiveResult[]> => archiveExpired(audit, config, logger);
  await archiveExpiredAudit();
  timers.every(RETENTION_INTERVAL_MS, () => void archiveExpiredAudit());
  return archiveExpiredAudit;
}

/** The background jobs (deletion window, scheduled rotation) under the store's lease: at start, then every interval. */
export function runScheduler(timers: BackgroundTimers, store: KeyStore, admin: ServiceAdmin, logger: Logger, intervalMs = SCHEDULER_INTERVAL_MS): Scheduler {
  const scheduler = new Scheduler({
    store,
    admin: admin.adminAs('scheduler'),
    owner: admin.process.owner,
    leaseMs: 3 * SCHEDULER_INTERVAL_MS,
    logger,
    // Only steps whose holder's lease has passed are the reconcile's: others are under way (this instance's too).
    hasUnfinishedSteps: async () => (await store.pendingIntents()).some((intent) => leaseHasPassed(intent, new Date())),
    isOwnerAlive: admin.process.isOwnerAlive,
  });
  const run = (): void => {
    scheduler.runOnce().catch((error: unknown) => logger.error('scheduled jobs failed; retried at the next run', { error: error instanceof Error ? error.message : String(error) }));
  };
  timers.every(intervalMs, run);
  // Destructions that fell due while no instance ran happen now, not one interval later.
  run();
  return scheduler;
}

/**
 * Issue 25: every instance takes over, about every second, the unfinished admin steps whose holder's lease has passed
 * (the compare-and-set on the lease gives each to one instance). While the database does not answer there is nothing
 * to do and nothing is logged; `onFinished` is told when a step was finished (readiness is checked again then).
 */
export function takeOverUnfinishedSteps(timers: BackgroundTimers, admin: ServiceAdmin, logger: Logger, onFinished: () => void, intervalMs = TAKEOVER_INTERVAL_MS): { idle(): Promise<void> } {
  const takeover = admin.adminAs('dke-service');
  let running: Promise<void> | undefined;
  timers.every(intervalMs, () => {
    running ??= takeover
      .takeOverUnfinishedSteps()
      .then((steps) => {
        for (const { intent, outcome } of steps) {
          logger.warn('unfinished admin step taken over', { action: intent.action, key: `${intent.name}/${intent.keyId}`, actor: intent.actor, from: intent.owner, outcome });
        }
        if (steps.length > 0) onFinished();
      })
      .catch((error: unknown) => {
        if (!(error instanceof RetryLater)) logger.error('taking over unfinished admin steps failed; tried again shortly', { error: error instanceof Error ? error.message : String(error) });
      })
      .finally(() => {
        running = undefined;
      });
  });
  // Resolves once the pass in flight (if any) has ended, so the HSM is closed only after it.
  return { idle: async () => running };
}

/**
 * Audit retention (issue 17): entries older than DKE_AUDIT_RETENTION go, oldest first and 50,000 per file, into
 * DKE_DATA_DIR/audit-archive/ (see store/audit-archive.ts). A failure is logged and retried next time; it never
 * stops the service.
 */
async function archiveExpired(audit: StoreAuditTrail, config: Config, logger: Logger): Promise<ArchiveResult[]> {
  if (config.auditRetentionMs === undefined) return [];
  const before = new Date(Date.now() - config.auditRetentionMs);
  const made: ArchiveResult[] = [];
  try {
    for (;;) {
      const file = join(config.dataDir, 'audit-archive', `audit-${new Date().toISOString().replace(/[:.]/g, '-')}-${made.length + 1}.jsonl`);
      const result = await audit.archiveBefore(before, file, 'dke-service');
      if (result === undefined) break;
      made.push(result);
      logger.info('audit entries archived', { file: result.file, first: result.first, last: result.last });
    }
  } catch (error) {
    logger.error('audit retention failed; retried at the next run', { error: error instanceof Error ? error.message : String(error) });
  }
  return made;
}
