import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { loadConfig, type Config } from '../config/config.js';
import { AdminRefused, StoreRefused } from '../keys/errors.js';
import { StoreAuditTrail } from '../store/audit-trail.js';
import { JournalLocked } from '../store/journal-lock.js';
import { trailDrainTarget } from '../store/journaled-audit-write.js';
import { LocalAuditJournal, type JournalInspection } from '../store/local-audit-journal.js';
import { adminActor } from './open-admin.js';
import { configuredEngine } from './open-store.js';

export type { JournalInspection };

export interface JournalDrainResult {
  readonly directory: string;
  /** Entries written into the trail by this drain. */
  readonly merged: number;
  /** Entries the trail held already (a drain or a start cut short after its commit): removed, not written again. */
  readonly alreadyInTrail: number;
  readonly oldestAt?: string;
  readonly newestAt?: string;
}

/** `dke audit journal status`: what the outage journal in `dir` (default DKE_DATA_DIR) holds, read without changing it. */
export async function outageJournalStatus(dir: string | undefined, config: Pick<Config, 'dataDir'> = loadConfig()): Promise<JournalInspection> {
  const directory = resolve(dir ?? config.dataDir);
  if (!existsSync(directory)) throw new AdminRefused(`There is no folder ${directory}: name the DKE_DATA_DIR of the instance with --data-dir.`);
  return LocalAuditJournal.inspect(directory);
}

/**
 * `dke audit journal drain --data-dir DIR` (contract §5): merges the outage journal an instance left in DIR (one that
 * will not come back, its volume mounted elsewhere) into the trail of DKE_DATABASE_URL, exactly once. The journal's
 * lock keeps it from racing a live instance on the same folder; each entry's id keeps a second drain, or one cut
 * short, from writing an entry twice. The merge is audited with who ran it.
 */
export async function drainOutageJournal(dir: string, config: Config = loadConfig()): Promise<JournalDrainResult> {
  if (config.databaseUrl === undefined) throw new AdminRefused('DKE_DATABASE_URL is not set: "dke audit journal drain" merges a journal into the trail of the shared database the instance used.');
  const before = await outageJournalStatus(dir, config);
  const journal = await LocalAuditJournal.open(before.directory).catch((error: unknown) => {
    throw error instanceof JournalLocked ? new StoreRefused(`${error.message.charAt(0).toUpperCase()}${error.message.slice(1)}.`) : error;
  });
  try {
    const connection = await configuredEngine(config).open(config, { role: 'admin' });
    try {
      const trail = new StoreAuditTrail(connection);
      const pending = journal.pending;
      const merged = await journal.drain(trailDrainTarget(trail));
      if (merged > 0) await trail.append({ actor: adminActor(config), action: 'audit-journal-drain', outcome: 'succeeded', details: { directory: before.directory, entries: merged } });
      const times = before.oldestAt !== undefined ? { oldestAt: before.oldestAt, newestAt: before.newestAt! } : {};
      return { directory: before.directory, merged, alreadyInTrail: pending - merged, ...times };
    } finally {
      await connection.close();
    }
  } finally {
    await journal.close();
  }
}
