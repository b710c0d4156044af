/**
 * Body of the embedded store's audit writer thread (see sqlite-audit-writer.ts). It opens a connection of its own to
 * the store the main thread opened and writes each batch of decrypt entries there as the main thread would (the same
 * rows: sqlite-audit-batch.ts; one transaction; synchronous=FULL), so the hashing, the SQL and the commit's fsync never
 * hold the event loop. Like every service connection it never waits for a lock inside SQLite: a held lock is an error
 * the group commit retries on its own timer.
 */
import Database from 'better-sqlite3';
import { parentPort, workerData } from 'node:worker_threads';
import type { QueuedEntry } from '../audit-chain.js';
import { describeSqliteError, type StoreDatabase } from './database.js';
import { SqliteAuditBatch } from './sqlite-audit-batch.js';
import { otherStore, type OpenedStore } from './store-file-check.js';
import { StoreFileWatch } from './store-file-watch.js';

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
  | { readonly id: number; readonly failure?: WriteFailure }
  | { readonly closed: true };

const setup = workerData as AuditWriterSetup;
const port = parentPort!;

function failureOf(error: unknown): WriteFailure {
  const code = (error as { code?: unknown } | undefined)?.code;
  return { message: error instanceof Error ? error.message : String(error), ...(typeof code === 'string' ? { code } : {}) };
}

/**
 * The thread's connection and its batch writer, opened at the first batch and again at the next one after opening
 * failed.
 */
let writing: { readonly db: StoreDatabase; readonly batch: SqliteAuditBatch } | undefined;

function opened(): NonNullable<typeof writing> {
  if (writing !== undefined) return writing;
  let db: StoreDatabase;
  try {
    db = new Database(setup.path, { fileMustExist: true, timeout: 0 });
    // Per connection: every commit fsynced before its decrypts are answered, as on the main thread's connection.
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    throw Object.assign(new Error(`the store ${setup.path} cannot be opened for the audit trail: ${describeSqliteError(error)}`), typeof code === 'string' ? { code } : {});
  }
  writing = { db, batch: new SqliteAuditBatch(db) };
  return writing;
}

/** The file as the main thread opened it, asked first: a file removed or replaced is named so, not as a failed open. */
const fileWatch = new StoreFileWatch(setup.watchedPath, setup.opened.fileIdentity);

function write(entries: readonly QueuedEntry[]): void {
  const fileProblem = fileWatch.problem();
  if (fileProblem !== undefined) throw new Error(fileProblem);
  // A store that cannot be opened now fails this batch only: the thread stays, and the group commit's next attempt
  // opens it again, so an outage costs no thread start per retry.
  const { db, batch } = opened();
  const problem = otherStore(setup.watchedPath, setup.opened, db);
  if (problem !== undefined) throw new Error(problem);
  batch.write(entries);
}

port.on('message', (request: AuditWriteRequest | 'close') => {
  if (request === 'close') {
    writing?.db.close();
    port.postMessage({ closed: true } satisfies AuditWriterMessage);
    return;
  }
  try {
    write(request.entries);
    port.postMessage({ id: request.id } satisfies AuditWriterMessage);
  } catch (error) {
    port.postMessage({ id: request.id, failure: failureOf(error) } satisfies AuditWriterMessage);
  }
});
port.postMessage({ ready: true } satisfies AuditWriterMessage);
