import { Worker } from 'node:worker_threads';
import type { QueuedEntry } from '../audit-chain.js';
import type { AuditWriteRequest, AuditWriterMessage, AuditWriterSetup, WriteFailure } from './audit-writer-thread.js';

interface Pending {
  resolve(): void;
  reject(error: Error): void;
}

interface Thread {
  readonly worker: Worker;
  readonly pending: Map<number, Pending>;
}

/** How long close() lets the thread finish its batch and close its connection before it is stopped. */
const CLOSE_LIMIT_MS = 5000;

/**
 * The embedded store's decrypt entries are written on a thread of their own (audit-writer-thread.ts): better-sqlite3
 * only calls SQLite synchronously, and a batch's commit (its SQL, the chain's hashes and the fsync of
 * synchronous=FULL) held the event loop for about a millisecond at every batch, a third of a decrypt's main-thread
 * time on a fast token (issue 30). A batch's promise settles once the thread has committed it, so the group commit
 * still answers a decrypt only after its entry is durable.
 *
 * The thread starts with the first batch (a service that never decrypts does not pay for it) and again only if it
 * stopped; a store it cannot open fails that batch, and the thread opens it again at the group commit's next attempt.
 * The thread's connection is another writer on the file, as a CLI command is: each waits for the other's lock on its
 * own terms (the admin paths inside SQLite, up to 1 s; the audit batches on the group commit's timer).
 */
export class SqliteAuditWriter {
  readonly #setup: AuditWriterSetup;
  #thread: Promise<Thread> | undefined;
  #nextId = 1;
  #closed = false;

  constructor(setup: AuditWriterSetup) {
    this.#setup = setup;
  }

  /** Resolves once the entries are committed on the thread; rejects with the engine's error (code kept) otherwise. */
  async write(entries: readonly QueuedEntry[]): Promise<void> {
    if (this.#closed) throw new Error('the audit writer is closed');
    const thread = await this.#started();
    const id = this.#nextId++;
    await new Promise<void>((resolve, reject) => {
      thread.pending.set(id, { resolve, reject });
      // Referenced while a batch is out: a process must not end with an entry half-way.
      thread.worker.ref();
      thread.worker.postMessage({ id, entries } satisfies AuditWriteRequest);
    });
  }

  /** Lets the thread close its connection (after the batch it is writing), then stops it. */
  async close(): Promise<void> {
    this.#closed = true;
    const thread = await this.#thread?.catch(() => undefined);
    if (thread === undefined) return;
    const closed = new Promise<void>((resolve) => {
      thread.worker.on('message', (message: AuditWriterMessage) => {
        if ('closed' in message) resolve();
      });
      thread.worker.once('exit', () => resolve());
    });
    thread.worker.ref();
    thread.worker.postMessage('close');
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([closed, new Promise<void>((resolve) => (timer = setTimeout(resolve, CLOSE_LIMIT_MS)))]);
    clearTimeout(timer);
    await thread.worker.terminate();
  }

  #started(): Promise<Thread> {
    this.#thread ??= this.#spawn().catch((error: unknown) => {
      this.#thread = undefined;
      throw error;
    });
    return this.#thread;
  }

  #spawn(): Promise<Thread> {
    const worker = new Worker(new URL('./audit-writer-thread.js', import.meta.url), { workerData: this.#setup });
    const thread: Thread = { worker, pending: new Map() };
    return new Promise<Thread>((ready, failed) => {
      worker.once('error', failed);
      worker.on('message', (message: AuditWriterMessage) => {
        if ('ready' in message) {
          ready(thread);
          return;
        }
        if (!('id' in message)) return;
        const pending = thread.pending.get(message.id);
        thread.pending.delete(message.id);
        if (thread.pending.size === 0) worker.unref();
        if (message.failure === undefined) pending?.resolve();
        else pending?.reject(rebuilt(message.failure));
      });
      worker.once('exit', () => {
        failed(new Error('the audit writer thread stopped before it was ready'));
        // A batch the thread did not confirm fails: the group commit retries it (on the next thread) until its wait
        // limit, then its decrypts get 503. A thread that died between its commit and its answer (never seen: it would
        // take an out-of-memory stop) leaves that batch in the chain twice, never missing.
        for (const pending of thread.pending.values()) pending.reject(new Error('the audit writer thread stopped'));
        thread.pending.clear();
        if (!this.#closed) this.#thread = undefined;
      });
    });
  }
}

/**
 * The thread's failure as an Error with SQLite's code, so that the dialect describes it as it would the main
 * thread's.
 */
function rebuilt(failure: WriteFailure): Error {
  const error = new Error(failure.message);
  if (failure.code !== undefined) Object.assign(error, { code: failure.code });
  return error;
}
