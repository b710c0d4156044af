import { StoreAuditTrail } from '../audit-trail.js';
import type { ServiceStore, ServiceStoreOptions } from '../store-engine.js';
import { storePath } from './database.js';
import { SqliteAuditWriter } from './sqlite-audit-writer.js';
import { openSqliteStore } from './sqlite-store-connection.js';
import { openedStore, storeFileCheck } from './store-file-check.js';

/**
 * The embedded store as the service holds it: never created here (a missing or empty file is refused with a
 * sentence, see openStoreFile), its file watched before every audit write and at every readiness check, decrypt
 * entries group-committed into it on the audit writer thread (sqlite-audit-writer.ts), and its readiness the audit
 * rehearsal.
 */
export async function openSqliteServiceStore(dataDir: string, options: ServiceStoreOptions): Promise<ServiceStore> {
  const connection = openSqliteStore(dataDir, { role: 'service' });
  try {
    const watchedPath = storePath(dataDir);
    const opened = openedStore(watchedPath, connection.file);
    const writer = new SqliteAuditWriter({ watchedPath, path: connection.path, opened });
    const audit = new StoreAuditTrail(connection, {
      storeProblem: storeFileCheck(watchedPath, opened, connection.file),
      groupCommit: { ...options.groupCommit, write: (entries) => writer.write(entries) },
    });
    return {
      connection,
      audit,
      readiness: () => audit.probe(),
      close: async () => {
        await audit.drain();
        await writer.close();
        await connection.close();
      },
    };
  } catch (error) {
    await connection.close();
    throw error;
  }
}
