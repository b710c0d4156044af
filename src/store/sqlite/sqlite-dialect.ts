import { sql } from '../kysely.js';
import type { EngineDialect } from '../store-connection.js';
import { describeSqliteError } from './database.js';

/**
 * SQLite's side of the shared store code: JSON through json_extract; no change announcement (every lookup asks
 * `PRAGMA data_version` itself); an INTEGER PRIMARY KEY goes on numbering after ids given explicitly; a lock held by
 * another process is SQLITE_BUSY, which the audit writer waits out on its own timer.
 */
export const sqliteDialect: EngineDialect = {
  jsonField: (key) => sql<string>`json_extract(entry, ${`$.${key}`})`,
  announceChange: async () => undefined,
  continueIntentIds: async () => undefined,
  describeError: describeSqliteError,
  isLockHeldElsewhere: (error) => (error as { code?: unknown } | undefined)?.code === 'SQLITE_BUSY',
  // A file has no clock of its own: the instance's is the only one.
  databaseTime: async () => undefined,
};
