import type { Config } from '../config/config.js';
import type { Logger } from '../keys/ports.js';
import type { ServiceStore } from '../store/store-engine.js';
import { configuredEngine } from './open-store.js';

/** Concurrent decrypt decisions gather this long before their batch is committed (group commit). */
const AUDIT_GROUP_COMMIT_MS = 2;
/** A decrypt waits at most this long for a failing audit trail before it is refused with 503. */
const AUDIT_WAIT_LIMIT_MS = 1000;

/**
 * The configured store as the service holds it (never created here: a missing or empty one is refused with a
 * sentence), with its audit trail. The audit writer's and the database's failures and recoveries are logged and
 * shown in readiness at once (`recheckReadiness`), not at the next periodic check.
 */
export async function openServiceStore(config: Config, logger: Logger, recheckReadiness: () => void): Promise<ServiceStore> {
  const storage = await configuredEngine(config).openForService(config, {
    groupCommit: {
      intervalMs: AUDIT_GROUP_COMMIT_MS,
      waitLimitMs: AUDIT_WAIT_LIMIT_MS,
      onFailing: (reason) => {
        logger.error('audit trail cannot be written: decrypts are refused (503) until it can', { reason });
        recheckReadiness();
      },
      onRecovered: (since, reason) => {
        logger.warn('audit trail writable again: decrypts accepted', { since, reason });
        recheckReadiness();
      },
    },
    onReachability: (reachable, detail) => {
      if (reachable) logger.warn('key-state database answers again: changes accepted, lookups confirmed', { detail });
      else logger.error('key-state database does not answer: changes refused; decrypt and GET answer from the last key state until DKE_STATE_STALENESS_SECONDS', { detail });
      recheckReadiness();
    },
    // The shared database can be away for a while (contract §5): decrypt entries then wait in a local journal.
    // Readiness names the journal while it holds entries (a warning): shown at once, not at the next periodic check.
    onJournaling: (reason, journal) => {
      logger.warn('audit entries go to the local journal until the database takes them', { reason, journal });
      recheckReadiness();
    },
    onDrained: (entries) => {
      logger.info('local audit journal drained into the trail', { entries });
      recheckReadiness();
    },
    outageMode: config.outageMode,
  });
  return keepingJournalInSight(storage, logger);
}

/**
 * Issue 25: entries in the local journal are never left without a word. At start, those an earlier process left (and
 * a stale lock it left) are named; at a stop with entries not yet in the trail (SIGTERM during an outage), how many
 * stay, and where. They are never deleted: the next start on this folder drains them, or `dke audit journal drain`.
 */
function keepingJournalInSight(storage: ServiceStore, logger: Logger): ServiceStore {
  const journal = storage.outageJournal;
  if (journal === undefined) return storage;
  const opened = journal();
  if (opened.staleLock !== undefined) logger.warn('took over a stale audit journal lock: its process is gone or its pid was reused', { directory: opened.directory, ...opened.staleLock });
  if (opened.undrained > 0) logger.warn('the local audit journal holds entries an earlier process left: they are drained into the trail once the database answers', { entries: opened.undrained, directory: opened.directory });
  return {
    ...storage,
    close: async () => {
      await storage.close();
      const { undrained, directory } = journal();
      if (undrained === 0) return;
      logger.warn(`stopping with ${undrained} audit entries not yet in the trail: they are kept in the local journal in DKE_DATA_DIR; the next start on this folder drains them once the database answers (or run "dke audit journal drain --data-dir ${directory}")`, { entries: undrained, directory });
    },
  };
}
