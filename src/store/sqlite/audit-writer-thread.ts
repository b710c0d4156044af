/**
 * Body of the embedded store's audit writer thread (see sqlite-audit-writer.ts). It opens a connection of its own to
 * the store the main thread opened and writes each batch of decrypt entries there exactly as the main thread would
 * (StoreAuditTrail.writeEntries: the chain, each version's last use, one transaction, synchronous=FULL), so the
 * hashing, the SQL and the commit's fsync never hold the event loop. Like every service connection it never waits
 * for a lock inside SQLite: a held lock is an error the group commit retries on its own timer.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { StoreAuditTrail } from '../audit-trail.js';
import type { QueuedEntry } from '../audit-entries.js';
import { openSqliteStoreFile, type SqliteStoreConnection } from './sqlite-store-connection.js';
import { storeFileCheck, type OpenedStore } from './store-file-check.js';

export interface AuditWriterSetup {
  /** The store file as the service names it (DKE_DATA_DIR/dke.sqlite), watched before every batch. */
  readonly watchedPath: string;
  /** The file the main thread's connection opened (symbolic links resolved). */
  readonly path: string;
  /** What the main thread opened there: a file replaced since is refused, as on the main thread. */
  readonly opened: OpenedStore;
}

export interface AuditWriteRequest {
  readonly id: number;
  readonly entries: readonly QueuedEntry[];
}

/** A failure as the engine reported it: SQLite's words and code (describeSqliteError rebuilds the sentence). */
export interface WriteFailure {
  readonly message: string;
  readonly code?: string;
}

export type AuditWriterMessage =
  | { readonly ready: true }
  | { readonly ready: false; readonly failure: WriteFailure }
  | { readonly id: number; readonly failure?: WriteFailure }
  | { readonly closed: true };

const setup = workerData as AuditWriterSetup;
const port = parentPort!;

function failureOf(error: unknown): WriteFailure {
  const code = (error as { code?: unknown } | undefined)?.code;
  return { message: error instanceof Error ? error.message : String(error), ...(typeof code === 'string' ? { code } : {}) };
}

let connection: SqliteStoreConnection;
try {
  connection = openSqliteStoreFile(setup.path, { role: 'service' });
} catch (error) {
  port.postMessage({ ready: false, failure: failureOf(error) } satisfies AuditWriterMessage);
  process.exit(0);
}
const trail = new StoreAuditTrail(connection, { storeProblem: storeFileCheck(setup.watchedPath, setup.opened, connection.file) });

port.on('message', (request: AuditWriteRequest | 'close') => {
  if (request === 'close') {
    void connection.close().finally(() => port.postMessage({ closed: true } satisfies AuditWriterMessage));
    return;
  }
  trail.writeEntries(request.entries).then(
    () => port.postMessage({ id: request.id } satisfies AuditWriterMessage),
    (error: unknown) => port.postMessage({ id: request.id, failure: failureOf(error) } satisfies AuditWriterMessage),
  );
});
port.postMessage({ ready: true } satisfies AuditWriterMessage);
