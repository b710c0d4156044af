import type { Express } from 'express';
import { clockSkewProblem } from '../app/clock-skew-check.js';
import { DkeProtocol } from '../app/dke-protocol.js';
import { PrivateKeyPresence } from '../app/private-key-presence.js';
import type { KeyAdmin } from '../app/key-admin.js';
import { ProvenanceGuard } from '../app/provenance-guard.js';
import { Readiness } from '../app/readiness.js';
import type { TokenAnchor } from '../app/token-anchor.js';
import type { SchedulerRun } from '../app/scheduler.js';
import type { OpenIdKeySource } from '../auth/openid-key-source.js';
import { assertCanAuthenticate, assertSeparateAdminAudience, type Config } from '../config/config.js';
import type { OpenHsm, OpenHsmOptions } from '../hsm/open-hsm.js';
import type { ArchiveResult, EmergencyBlock, Logger } from '../keys/ports.js';
import { ServiceMetrics } from '../metrics/service-metrics.js';
import type { StoreAuditTrail } from '../store/audit-trail.js';
import { KeyStore } from '../store/key-store.js';
import type { ServiceStore } from '../store/store-engine.js';
import { startServiceAdmin } from './service-admin.js';
import { createServiceApps } from './service-apps.js';
import { openVerifiers, type ServiceVerifiers } from './service-auth.js';
import { anchorOnToken } from './service-anchor.js';
import type { OpenVaults } from './open-vaults.js';
import { openServiceVaults } from './service-hsm.js';
import { BackgroundTimers, checkReadiness, keepAuditRetention, recheckPrivateKeys, runScheduler, takeOverUnfinishedSteps } from './service-jobs.js';
import { openServiceStore } from './service-store.js';
import { serviceVaults, vaultsProblem } from './service-vaults.js';

export interface Service {
  readonly app: Express;
  /** The admin API (contract §6); run-service listens with it on DKE_ADMIN_PORT when that is set. */
  readonly adminApp: Express;
  /** /metrics on DKE_METRICS_PORT, when that is set (else on the admin app; never on the DKE port). */
  readonly metricsApp?: Express;
  /** The default vault's token (the DKE_PKCS11_* token without DKE_VAULTS). */
  readonly hsm: OpenHsm;
  /** Every vault's token, and the KeyVault that routes each version to its vault (contract §9). */
  readonly vaults: OpenVaults;
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
  /** Test seams for fault injection into one vault's token, by vault name (contract §9). */
  readonly vaults?: Readonly<Record<string, Pick<OpenHsmOptions, 'wrapModule' | 'wrapDecryptor'>>>;
  /** Test seam: the private-key recheck's interval (default PRIVATE_KEY_RECHECK_MS in ./service-jobs.ts). */
  readonly privateKeyRecheckMs?: number;
  /**
   * Test seam: how often the background jobs run (default SCHEDULER_INTERVAL_MS in ./service-jobs.ts). A test that
   * hands the scheduler's lease to another process sets it beyond its own length, so this instance cannot take it back.
   */
  readonly schedulerIntervalMs?: number;
  /** Test seam: how often unfinished steps whose lease passed are taken over (default TAKEOVER_INTERVAL_MS there). */
  readonly takeoverIntervalMs?: number;
  /** Test seam: how often the token's records are compared and the audit head anchored (ANCHOR_INTERVAL_MS in ./service-anchor.ts). */
  readonly tokenAnchorIntervalMs?: number;
}

/** What the first steps of openService opened, which every later step builds on (and which a failure closes). */
interface Opened {
  readonly config: Config;
  readonly logger: Logger;
  readonly options: ServiceOptions;
  readonly metrics: ServiceMetrics;
  readonly vaults: OpenVaults;
  readonly storage: ServiceStore;
  /** Lets the store's failures and recoveries show in readiness at once, once readiness exists. */
  readonly readinessLink: { recheck: () => void };
}

/**
 * The composition root of the service: builds every adapter (token and session pool, store, audit trail, token
 * verifier, metrics) from the configuration and wires them into the application. `dke serve`, `dke dev` and the
 * tests' service helper all start here; the CLI's commands open the same adapters through ./open-admin.ts.
 */
export async function openService(config: Config, logger: Logger, options: ServiceOptions = {}): Promise<Service> {
  assertCanAuthenticate(config.auth);
  assertSeparateAdminAudience(config);
  const metrics = new ServiceMetrics();
  const vaults = openServiceVaults(config, logger, metrics, { ...(options.hsm ? { hsm: options.hsm } : {}), ...(options.vaults ? { vaults: options.vaults } : {}) });
  const readinessLink = { recheck: (): void => undefined };
  let storage: ServiceStore | undefined;
  try {
    await vaults.startDecryptThreads();
    storage = await openServiceStore(config, logger, () => readinessLink.recheck());
    return await serveFrom({ config, logger, options, metrics, vaults, storage, readinessLink });
  } catch (error) {
    await storage?.close();
    await vaults.close();
    throw error;
  }
}

/** The application on the opened token and store: admin, token verifiers, protocol, readiness, jobs, the two apps. */
async function serveFrom(opened: Opened): Promise<Service> {
  const { config, logger, options, metrics, vaults, storage } = opened;
  const { audit } = storage;
  const store = new KeyStore(storage.connection);
  const vault = vaults.router;
  // An intent names a version without its vault: the store's record says where it is.
  vault.lookUpVaultsIn(store);
  // What GET learns of a private key's presence in the token, the admin views' status tells ("Not in the HSM").
  const presence = new PrivateKeyPresence(vault);
  // What the provenance guard judged of a version, the admin views' status tells too ("Refused: could have left the HSM").
  const guard = new ProvenanceGuard(vault, config.allowExportableKeys);
  // Set once the token anchor exists (it acts through this admin): this instance's own block change is seen at once.
  const anchorLink: { blockChanged: () => Promise<void>; block: () => EmergencyBlock | undefined } = { blockChanged: async () => undefined, block: () => undefined };
  const parts = { store, vault, vaults: vaults.names, audit, privateKeyPresent: presence.known.bind(presence), servable: guard.known.bind(guard) };
  const admin = await startServiceAdmin(config, { ...parts, emergencyBlockChanged: () => anchorLink.blockChanged(), anchoredBlock: () => anchorLink.block() }, logger);
  const verifiers = await openVerifiers(config, logger, metrics);
  const timers = new BackgroundTimers();
  // Issue 25: what the token records holds before the first request is answered.
  const anchor = await anchorOnToken(timers, { store, vault, pool: () => vaults.defaultHsm.pool, audit, admin }, logger, options.tokenAnchorIntervalMs);
  anchorLink.blockChanged = () => anchor.pollBlock().catch(() => undefined);
  anchorLink.block = () => anchor.block();
  const protocol = new DkeProtocol({ store, vault, audit, guard, presence, anchor, observer: metrics, publicKeyCacheHours: config.publicKeyCacheHours });
  if (storage.outageJournal !== undefined) metrics.watchOutageJournal(storage.outageJournal);
  recheckPrivateKeys(timers, protocol, logger, options.privateKeyRecheckMs);
  const readiness = serviceReadiness(opened, store, verifiers, { protocol, anchor });
  opened.readinessLink.recheck = () => {
    readiness.check().catch((error: unknown) => logger.error('readiness check failed', { error: String(error) }));
  };
  const archiveExpiredAudit = await keepAuditRetention(timers, audit, config, logger);
  await checkReadiness(timers, readiness, logger);
  const scheduler = runScheduler(timers, store, admin, logger, options.schedulerIntervalMs);
  const takeover = takeOverUnfinishedSteps(timers, admin, logger, () => opened.readinessLink.recheck(), options.takeoverIntervalMs);
  const apps = createServiceApps(config, { protocol, readiness, verifiers, adminAs: admin.adminAs, metrics, vaults: serviceVaults(vaults) }, logger);
  return {
    ...apps,
    hsm: vaults.defaultHsm,
    vaults,
    store,
    audit,
    readiness,
    protocol,
    keySource: verifiers.keySource,
    metrics,
    admin: admin.adminAs,
    archiveExpiredAudit,
    runScheduledJobs: () => scheduler.runOnce(),
    close: async () => {
      timers.stop();
      await scheduler.idle();
      await takeover.idle();
      // The head as it is at shutdown, anchored on the token (issue 25).
      await anchor.anchorAuditHead().catch(() => undefined);
      await vaults.close();
      await storage.close();
    },
  };
}

/** Readiness (contract §1): the token, the versions the store expects in it, the store, the issuer's keys. */
function serviceReadiness({ vaults, storage, config }: Opened, store: KeyStore, verifiers: ServiceVerifiers, { protocol, anchor }: { protocol: DkeProtocol; anchor: TokenAnchor }): Readiness {
  return new Readiness(store, vaults.router, {
    // A shared database has a clock of its own to compare with; the embedded store has none (no `clock` check then).
    ...(config.databaseUrl !== undefined ? { clock: () => clockSkewProblem(() => store.databaseTime(), config.auth.clockSkewSeconds) } : {}),
    versionRefused: (ref, missing) => protocol.versionRefusedByToken(ref, missing),
    hsm: () => vaultsProblem(vaults),
    // While the database does not answer, the comparison goes on without the unfinished steps (the store check says
    // why); a version the token records as permanent while the store lags is that version's fault only (issue 25).
    pendingVersions: async () => [...(await store.pendingIntents().catch(() => [])), ...anchor.uncorrected()],
    tokenRecords: () => anchor.readinessWarning(),
    refusedByToken: (ref) => anchor.recorded(ref) !== undefined,
    store: () => storage.readiness(),
    ...(storage.outageJournal !== undefined ? { outageJournal: storage.outageJournal } : {}),
    issuerKeys: () => {
      // A failed or stale key set is refetched from here too, so a recovered issuer is seen without traffic.
      verifiers.keySource.refreshIfDue();
      return verifiers.keySource.readinessProblem();
    },
  });
}
