import { StoreAuditTrail } from '../audit-trail.js';
import { JournaledAuditWrite, trailDrainTarget } from '../journaled-audit-write.js';
import { LocalAuditJournal } from '../local-audit-journal.js';
import type { ServiceStore, ServiceStoreOptions, StoreReadiness } from '../store-engine.js';
import { openPostgresStore, type PostgresStoreConnection } from './postgres-store-connection.js';

/**
 * The shared database as the service holds it: a database unreachable at start is tried again in the background
 * (readiness fails meanwhile); decrypt entries that the database cannot take wait in a local journal in DKE_DATA_DIR
 * (contract §5: no audit entry is lost during an outage) and are drained into the trail once it answers again.
 */
export async function openPostgresServiceStore(url: string, dataDir: string, stalenessMs: number, options: ServiceStoreOptions): Promise<ServiceStore> {
  const connection = await openPostgresStore(url, {
    stalenessMs,
    waitForDatabase: true,
    ...(options.onReachability ? { onReachability: options.onReachability } : {}),
  });
  let journal: LocalAuditJournal;
  try {
    journal = await LocalAuditJournal.open(dataDir);
  } catch (error) {
    await connection.close();
    throw error;
  }
  const refuse = options.outageMode === 'refuse';
  let journaled: JournaledAuditWrite | undefined;
  const audit = new StoreAuditTrail(connection, {
    groupCommit: { ...options.groupCommit, write: (entries) => journaled!.write(entries) },
    // DKE_OUTAGE_MODE=refuse: no decrypt while the database does not answer (none could be recorded but in a journal).
    ...(refuse ? { refusal: () => outageRefusal(connection) } : {}),
  });
  journaled = new JournaledAuditWrite({
    trail: trailDrainTarget(audit),
    journal,
    refuse,
    onJournaling: (reason) => options.onJournaling?.(reason, journal.path),
    onDrained: (entries) => options.onDrained?.(entries),
  });
  const writer = journaled;
  return {
    connection,
    audit,
    outageJournal: () => ({ directory: journal.directory, undrained: journal.pending, ...(journal.staleLock !== undefined ? { staleLock: journal.staleLock } : {}) }),
    readiness: () => postgresReadiness(connection, audit, refuse),
    close: async () => {
      await audit.drain();
      await writer.close();
      await connection.close();
    },
  };
}

function outageRefusal(connection: PostgresStoreConnection): string | undefined {
  const { problem } = connection.snapshots.health();
  return problem === undefined ? undefined : `${connection.location} does not answer (${problem}) and DKE_OUTAGE_MODE is refuse: decrypts are refused until it answers`;
}

/**
 * Readiness of the shared store (contract §5): while the database does not answer, `warn` as long as lookups still
 * answer from a key state younger than DKE_STATE_STALENESS_SECONDS, `fail` past it (and before a first state was
 * ever read); then the audit rehearsal. With DKE_OUTAGE_MODE=refuse the warning says that decrypts are refused.
 */
async function postgresReadiness(connection: PostgresStoreConnection, audit: StoreAuditTrail, refuse: boolean): Promise<StoreReadiness> {
  const { ageMs, problem, limitMs } = connection.snapshots.health();
  if (problem !== undefined) {
    const sentence = `${connection.location} does not answer (${problem})`;
    if (ageMs > limitMs) return `${sentence}; the last key state read is older than DKE_STATE_STALENESS_SECONDS (${Math.round(limitMs / 1000)} s): decrypt and GET answer 503`;
    const answering = refuse ? 'decrypts are refused (DKE_OUTAGE_MODE=refuse); GET answers' : 'decrypt and GET answer';
    return { warning: `${sentence}; changes are refused; ${answering} from the key state read ${Math.round(ageMs / 1000)} s ago (for up to ${Math.round(limitMs / 1000)} s)` };
  }
  return audit.probe();
}
