import type { Express } from 'express';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DkeProtocol } from '../app/dke-protocol.js';
import { KeyAdmin } from '../app/key-admin.js';
import { ProvenanceGuard } from '../app/provenance-guard.js';
import { backfillPublicKeys } from '../app/public-key-backfill.js';
import { Readiness } from '../app/readiness.js';
import { Scheduler, type SchedulerRun } from '../app/scheduler.js';
import { EntraTokenVerifier } from '../auth/entra-token-verifier.js';
import { OpenIdKeySource } from '../auth/openid-key-source.js';
import { VerifiedTokenCache } from '../auth/verified-token-cache.js';
import { assertCanAuthenticate, type Config } from '../config/config.js';
import { hsmProblem } from '../hsm/login-state.js';
import type { OpenHsm, OpenHsmOptions } from '../hsm/open-hsm.js';
import { createAdminApp } from '../http/admin-app.js';
import { createApp } from '../http/app.js';
import type { ArchiveResult, Logger, TokenVerifier } from '../keys/ports.js';
import { ServiceMetrics } from '../metrics/service-metrics.js';
import { storeId, storePath, type StoreDatabase } from '../store/database.js';
import type { QueuedEntry } from '../store/audit-entries.js';
import { StoreAuditTrail } from '../store/audit-trail.js';
import { JournaledAuditWrite, trailDrainTarget } from '../store/journaled-audit-write.js';
import { LocalAuditJournal } from '../store/local-audit-journal.js';
import { KeyStore } from '../store/key-store.js';
import type { StoreConnection } from '../store/store-connection.js';
import { StoreFileWatch } from '../store/store-file-watch.js';
import type { SqliteStoreConnection } from '../store/sqlite-store-connection.js';
import type { PostgresStoreConnection } from '../store/postgres-store-connection.js';
import { processDeps } from './open-admin.js';
import { openConfiguredHsm } from './open-hsm.js';
import { openConfiguredStore } from './open-store.js';

/** Where `npm run build` puts the console's bundle: beside the compiled service (dist/console). */
export const CONSOLE_ASSETS_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'console');

/** How often audit retention (DKE_AUDIT_RETENTION) looks for entries to archive. */
const RETENTION_INTERVAL_MS = 3_600_000;
/** How often the background jobs run (deletion window); one instance at a time, under the store's lease. */
const SCHEDULER_INTERVAL_MS = 30_000;
/** How often readiness re-runs its checks in the background (probes read the last result). */
const READINESS_INTERVAL_MS = 15_000;
/** Concurrent decrypt decisions gather this long before their batch is committed (group commit). */
const AUDIT_GROUP_COMMIT_MS = 2;
/** A decrypt waits at most this long for a failing audit trail before it is refused with 503. */
const AUDIT_WAIT_LIMIT_MS = 1000;
/** How often GET's knowledge that each published private key is still in the token is refreshed (issue 17, 19). */
export const PRIVATE_KEY_RECHECK_MS = 10_000;

export interface Service {
  readonly app: Express;
  /** The admin API (contract §6); run-service listens with it on DKE_ADMIN_PORT when that is set. */
  readonly adminApp: Express;
  readonly hsm: OpenHsm;
  readonly store: KeyStore;
  readonly audit: StoreAuditTrail;
  readonly readiness: Readiness;
  readonly protocol: DkeProtocol;
  readonly keySource: OpenIdKeySource;
  readonly metrics: ServiceMetrics;
  /** Archives the audit entries older than DKE_AUDIT_RETENTION now (also run at start and hourly); [] when unset. */
  archiveExpiredAudit(): Promise<ArchiveResult[]>;
  /** The key-admin service on this instance's store and token, acting as `actor` (tests, and the admin API next). */
  admin(actor: string, principal?: string): KeyAdmin;
  /** One pass of the background jobs now (the deletion window's destructions), as the timer runs them. */
  runScheduledJobs(): Promise<SchedulerRun>;
  /** Stops background work, closes the HSM sessions, finalises the module and closes the store. */
  close(): Promise<void>;
}

export interface ServiceOptions {
  /** Test seams for fault injection (see test/support/fault-injection.ts). */
  readonly hsm?: Pick<OpenHsmOptions, 'wrapModule' | 'wrapDecryptor'>;
  /** Test seam: the private-key recheck's interval (default PRIVATE_KEY_RECHECK_MS). */
  readonly privateKeyRecheckMs?: number;
}

/**
 * The composition root of the service: builds every adapter (token and session pool, store, audit trail, token
 * verifier, metrics) from the configuration and wires them into the application. `dke serve`, `dke dev` and the
 * tests' service helper all start here; the CLI's commands open the same adapters through ./open-admin.ts.
 */
export async function openService(config: Config, logger: Logger, options: ServiceOptions = {}): Promise<Service> {
  assertCanAuthenticate(config.auth);
  const metrics = new ServiceMetrics();
  const hsm = openConfiguredHsm(config, {
    ...options.hsm,
    tolerateMisconfiguration: true,
    events: {
      onError: (errorClass) => metrics.hsmError(errorClass),
      onDown: (detail) => logger.warn('HSM fault: reconnecting', { detail }),
      onRecovered: (millis) => logger.info('HSM reconnected', { millis }),
      onMisconfigured: (detail) => logger.error('HSM configuration refused; not ready until fixed and restarted', { detail }),
    },
  });
  let connection: StoreConnection | undefined;
  let journal: LocalAuditJournal | undefined;
  try {
    await hsm.startDecryptThreads();
    // Never creates the store: a missing or empty one is refused with a sentence (see openStoreDatabase).
    // The audit writer's and the database's failures and recoveries show in readiness at once, not at the next check.
    let recheckReadiness = (): void => undefined;
    connection = await openConfiguredStore(config, {
      role: 'service',
      waitForDatabase: true,
      onReachability: (reachable, detail) => {
        if (reachable) logger.warn('key-state database answers again: changes accepted, lookups confirmed', { detail });
        else logger.error('key-state database does not answer: changes refused; decrypt and GET answer from the last key state until DKE_STATE_STALENESS_SECONDS', { detail });
        recheckReadiness();
      },
    });
    const storeProblem = connection.engine === 'sqlite' ? watchStoreFile(config.dataDir, (connection as SqliteStoreConnection).file) : undefined;
    const store = new KeyStore(connection);
    // The shared database can be away for a while (contract §5): decrypt entries then wait in a local journal.
    journal = connection.engine === 'postgres' ? await LocalAuditJournal.open(config.dataDir) : undefined;
    let journaled: JournaledAuditWrite | undefined;
    const audit = new StoreAuditTrail(connection, {
      ...(storeProblem !== undefined ? { storeProblem } : {}),
      groupCommit: {
        intervalMs: AUDIT_GROUP_COMMIT_MS,
        waitLimitMs: AUDIT_WAIT_LIMIT_MS,
        ...(journal !== undefined ? { write: (entries: readonly QueuedEntry[]) => journaled!.write(entries) } : {}),
        onFailing: (reason) => {
          logger.error('audit trail cannot be written: decrypts are refused (503) until it can', { reason });
          recheckReadiness();
        },
        onRecovered: (since, reason) => {
          logger.warn('audit trail writable again: decrypts accepted', { since, reason });
          recheckReadiness();
        },
      },
    });
    if (journal !== undefined) {
      const path = journal.path;
      journaled = new JournaledAuditWrite({
        trail: trailDrainTarget(audit),
        journal,
        onJournaling: (reason) => logger.warn('audit entries go to the local journal until the database takes them', { reason, journal: path }),
        onDrained: (entries) => logger.info('local audit journal drained into the trail', { entries }),
      });
    }
    let reconciledAtStart = false;
    const adminDeps = processDeps(config, { ownStepsLive: () => reconciledAtStart });
    const adminAs = (actor: string, principal?: string): KeyAdmin =>
      new KeyAdmin({
        store,
        vault: hsm.vault,
        audit,
        actor,
        ...(principal !== undefined ? { principal } : {}),
        publicKeyCacheHours: config.publicKeyCacheHours,
        deletionWindowMs: config.deletionWindowMs,
        approvalsRequired: config.approvalsRequired,
        approvalTtlMs: config.approvalTtlMs,
        ...adminDeps,
      });
    await reconcileAtStart(adminAs('dke-service'), store, logger);
    reconciledAtStart = true;
    const missingPublicKeys = await backfillPublicKeys(store, hsm.vault).catch((error: unknown) => [`not tried: ${error instanceof Error ? error.message : String(error)}`]);
    if (missingPublicKeys.length > 0) {
      logger.warn('public keys of older versions could not be read from the token yet; retried at the next start', { versions: missingPublicKeys.join('; ') });
    }
    const keySource = new OpenIdKeySource({
      metadataUrl: config.auth.metadataUrl,
      proxy: config.outboundProxy,
      onRefresh: (ok, detail) => {
        metrics.jwksRefresh(ok);
        if (ok) logger.info('issuer keys loaded', { detail });
        else logger.warn('issuer keys refresh failed', { detail });
      },
    });
    await keySource.refresh();
    const overageLogged = new Set<string>();
    const entraVerifier = new EntraTokenVerifier(config.auth, keySource, (oid) => {
      if (overageLogged.has(oid)) return;
      overageLogged.add(oid);
      logger.warn('group overage: the token lists no groups; group grants do not apply to this user', { oid });
    });
    const verifier: TokenVerifier = new VerifiedTokenCache(entraVerifier);
    const adminVerifier: TokenVerifier = new VerifiedTokenCache(
      new EntraTokenVerifier({ ...config.auth, audiences: config.adminAudiences }, keySource, undefined, 'admin'),
    );
    const guard = new ProvenanceGuard(hsm.vault, config.allowExportableKeys);
    const protocol = new DkeProtocol({
      store,
      vault: hsm.vault,
      audit,
      guard,
      observer: metrics,
      publicKeyCacheHours: config.publicKeyCacheHours,
    });
    metrics.watchPool(() => hsm.pool);
    const recheckTimer = setInterval(() => {
      protocol.recheckPrivateKeys().catch((error: unknown) => logger.error('private key recheck failed', { error: String(error) }));
    }, options.privateKeyRecheckMs ?? PRIVATE_KEY_RECHECK_MS);
    recheckTimer.unref();
    const openedConnection = connection;
    const readiness = new Readiness(store, hsm.vault, {
      hsm: () => hsmProblem(hsm.connection),
      // While the database does not answer, the comparison goes on without the unfinished steps (the store check says why).
      pendingVersions: () => store.pendingIntents().catch(() => []),
      store: () => storeReadiness(openedConnection, audit),
      issuerKeys: () => {
        // A failed or stale key set is refetched from here too, so a recovered issuer is seen without traffic.
        keySource.refreshIfDue();
        return keySource.readinessProblem();
      },
    });
    recheckReadiness = () => {
      readiness.check().catch((error: unknown) => logger.error('readiness check failed', { error: String(error) }));
    };
    const archiveExpiredAudit = (): Promise<ArchiveResult[]> => archiveExpired(audit, config, logger);
    await archiveExpiredAudit();
    const retentionTimer = setInterval(() => void archiveExpiredAudit(), RETENTION_INTERVAL_MS);
    retentionTimer.unref();
    await readiness.check();
    const timer = setInterval(() => {
      readiness.check().catch((error: unknown) => logger.error('readiness check failed', { error: String(error) }));
    }, READINESS_INTERVAL_MS);
    timer.unref();
    const scheduler = new Scheduler({
      store,
      admin: adminAs('scheduler'),
      owner: adminDeps.owner,
      leaseMs: 3 * SCHEDULER_INTERVAL_MS,
      logger,
      // Only steps of processes that died are the reconcile's: this instance's own admin API steps may be under way.
      hasUnfinishedSteps: async () => (await store.pendingIntents()).some((intent) => !adminDeps.isOwnerAlive(intent.owner)),
      isOwnerAlive: adminDeps.isOwnerAlive,
    });
    const runScheduledJobs = (): Promise<SchedulerRun> => scheduler.runOnce();
    const schedulerTimer = setInterval(() => {
      runScheduledJobs().catch((error: unknown) => logger.error('scheduled jobs failed; retried at the next run', { error: error instanceof Error ? error.message : String(error) }));
    }, SCHEDULER_INTERVAL_MS);
    schedulerTimer.unref();
    // Destructions that fell due while no instance ran happen now, not one interval later.
    runScheduledJobs().catch((error: unknown) => logger.error('scheduled jobs failed; retried at the next run', { error: error instanceof Error ? error.message : String(error) }));
    const app = createApp({ config, protocol, readiness, verifier, logger, metrics });
    const adminApp = createAdminApp({
      config: { ...config, auth: { ...config.auth, audiences: config.adminAudiences } },
      verifier: adminVerifier,
      keyAdmin: adminAs,
      logger,
      metrics,
      readiness: () => readiness.report,
      console: { assetsDir: CONSOLE_ASSETS_DIR, signIn: config.consoleSignIn, scope: consoleScope(config.adminAudiences), labelBaseUrl: labelBaseUrl(config) },
    });
    return {
      app,
      adminApp,
      hsm,
      store,
      audit,
      readiness,
      protocol,
      keySource,
      metrics,
      admin: adminAs,
      archiveExpiredAudit,
      runScheduledJobs,
      close: async () => {
        clearInterval(timer);
        clearInterval(retentionTimer);
        clearInterval(schedulerTimer);
        clearInterval(recheckTimer);
        await scheduler.idle();
        await hsm.close();
        await audit.drain();
        await journaled?.close();
        await openedConnection.close();
      },
    };
  } catch (error) {
    await journal?.close();
    await connection?.close();
    await hsm.close();
    throw error;
  }
}

/** The console asks for a token of the admin API's first audience, with the app roles assigned to the user there. */
function consoleScope(audiences: readonly string[]): string {
  const audience = audiences[0] ?? '';
  return `${audience.replace(/\/+$/, '')}/.default`;
}

/** The URL a sensitivity label names, without the key: DKE_PUBLIC_BASE_URL, else the service URL that tokens are for. */
function labelBaseUrl(config: Config): string {
  const base = config.publicBaseUrl ?? (config.auth.audiences[0] ?? '').replace(/\/+$/, '');
  return `${base}${config.basePath}`;
}

/**
 * Readiness of the store (contract §5): the audit rehearsal on the embedded store; on PostgreSQL, while the database
 * does not answer, `warn` as long as lookups still answer from a key state younger than DKE_STATE_STALENESS_SECONDS,
 * `fail` past it (and before a first state was ever read).
 */
async function storeReadiness(connection: StoreConnection, audit: StoreAuditTrail): Promise<string | { readonly warning: string } | undefined> {
  if (connection.engine === 'postgres') {
    const { ageMs, problem, limitMs } = (connection as PostgresStoreConnection).snapshots.health();
    if (problem !== undefined) {
      const sentence = `${connection.location} does not answer (${problem})`;
      if (ageMs > limitMs) return `${sentence}; the last key state read is older than DKE_STATE_STALENESS_SECONDS (${Math.round(limitMs / 1000)} s): decrypt and GET answer 503`;
      return { warning: `${sentence}; changes are refused; decrypt and GET answer from the key state read ${Math.round(ageMs / 1000)} s ago (for up to ${Math.round(limitMs / 1000)} s)` };
    }
  }
  return audit.probe();
}

/**
 * Asked before every audit write and at every readiness check: a sentence when the store file at DKE_DATA_DIR is no
 * longer the one this process opened (removed, replaced, emptied, or another store copied over it).
 */
function watchStoreFile(dataDir: string, file: StoreDatabase): () => string | undefined {
  const storeWatch = new StoreFileWatch(storePath(dataDir));
  const openedStoreId = storeId(file);
  return () => {
    const fileProblem = storeWatch.problem();
    if (fileProblem !== undefined) return fileProblem;
    // `cp other.sqlite dke.sqlite` keeps the inode: the identity written at creation tells the stores apart.
    let current: string;
    try {
      current = storeId(file);
    } catch {
      return undefined; // unreadable: the audit rehearsal reports it with SQLite's words
    }
    return current === openedStoreId ? undefined : `the store file ${storePath(dataDir)} was replaced by another store while the service runs`;
  };
}

/**
 * Unfinished admin steps of commands that died (issue 17) are finished or rolled back before the service serves; a
 * token that is not up yet leaves them for `dke keys reconcile` (readiness names them meanwhile).
 */
async function reconcileAtStart(admin: KeyAdmin, store: KeyStore, logger: Logger): Promise<void> {
  try {
    if ((await store.pendingIntents()).length === 0) return;
    const report = await admin.reconcile(false);
    for (const step of report.steps) logger.warn('unfinished admin step reconciled', { action: step.action, key: `${step.name}/${step.keyId}`, actor: step.actor, outcome: step.outcome });
  } catch (error) {
    logger.error('unfinished admin steps could not be reconciled at start; run "dke keys reconcile"', { error: error instanceof Error ? error.message : String(error) });
  }
}

/**
 * Audit retention (issue 17): entries older than DKE_AUDIT_RETENTION go, oldest first and 50,000 per file, into
 * DKE_DATA_DIR/audit-archive/ (see store/sqlite-audit-archive.ts). A failure is logged and retried next time; it
 * never stops the service.
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
