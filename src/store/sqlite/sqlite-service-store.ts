import { StoreAuditTrail } from '../audit-trail.js';
import type { ServiceStore, ServiceStoreOptions } from '../store-engine.js';
import { storeId, storePath, type StoreDatabase } from './database.js';
import { openSqliteStore } from './sqlite-store-connection.js';
import { StoreFileWatch } from './store-file-watch.js';

/**
 * The embedded store as the service holds it: never created here (a missing or empty file is refused with a
 * sentence, see openStoreFile), its file watched before every audit write and at every readiness check, decrypt
 * entries group-committed straight into it, and its readiness the audit rehearsal.
 */
export async function openSqliteServiceStore(dataDir: string, options: ServiceStoreOptions): Promise<ServiceStore> {
  const connection = openSqliteStore(dataDir, { role: 'service' });
  try {
    const audit = new StoreAuditTrail(connection, { storeProblem: watchStoreFile(dataDir, connection.file), groupCommit: options.groupCommit });
    return {
      connection,
      audit,
      readiness: () => audit.probe(),
      close: async () => {
        await audit.drain();
        await connection.close();
      },
    };
  } catch (error) {
    await connection.close();
    throw error;
  }
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
