import { Worker } from 'node:worker_threads';
import { HsmUnavailable } from '../keys/errors.js';
import { pkcs11Error } from './ckr-classes.js';
import type { DecryptReply, DecryptRequest, DecryptThreadSetup } from './decrypt-thread.js';
import type { Handle } from './pkcs11.js';

/** Decrypts on a given session; the seam where tests inject faults in front of the threads. */
export interface SessionDecryptor {
  decrypt(session: Handle, key: Handle, ciphertext: Buffer, outputLength: number): Promise<Buffer>;
}

interface Pending {
  resolve(plaintext: Buffer): void;
  reject(error: Error): void;
}

interface Thread {
  readonly worker: Worker;
  readonly pending: Map<number, Pending>;
}

/**
 * Runs RSA decryptions on worker threads. pkcs11js has an async C_Decrypt but no async C_DecryptInit, and a token's
 * C_DecryptInit can be slow (NSS softoken loads and unwraps the key there; a network HSM makes a round trip), so on
 * the main thread it would stall every request. Callers bring a session from the SessionPool, so threads never share
 * a session; a job goes to an idle thread.
 *
 * One thread starts with the pool (it proves the module loads on a thread) and more start as load asks for them, up
 * to one per session: a thread costs about 50-80 ms of CPU and a few MB to start, which an instance that decrypts
 * now and then (and every test service) need not pay four times. A decrypt that finds every thread busy starts one.
 */
export class DecryptThreadPool implements SessionDecryptor {
  readonly #threads: Thread[] = [];
  readonly #setup: DecryptThreadSetup;
  /** The most threads this pool runs: one per session, or as many as started once a start failed. */
  #limit: number;
  #starting = 0;
  #closed = false;
  #nextId = 1;

  private constructor(setup: DecryptThreadSetup, limit: number) {
    this.#setup = setup;
    this.#limit = limit;
  }

  static async start(setup: DecryptThreadSetup, limit: number): Promise<DecryptThreadPool> {
    const pool = new DecryptThreadPool(setup, Math.max(1, limit));
    try {
      await pool.#spawn();
    } catch (error) {
      await pool.close();
      throw error;
    }
    return pool;
  }

  /** The threads running now. */
  get size(): number {
    return this.#threads.length;
  }

  /** C_DecryptInit(RSA-OAEP-SHA256) + C_Decrypt on `session`; rejects with a Pkcs11Error carrying the CKR code. */
  decrypt(session: Handle, key: Handle, ciphertext: Buffer, outputLength: number): Promise<Buffer> {
    const idle = this.#threads.find((thread) => thread.pending.size === 0);
    if (idle !== undefined) return this.#send(idle, session, key, ciphertext, outputLength);
    // Every thread is busy: this decrypt waits for a thread of its own (tens of ms) rather than behind an operation
    // that may take a network HSM's round trip; only once no more may start does it queue behind the least busy.
    return this.#grown().then((grown) => this.#send(grown ?? this.#leastBusy(), session, key, ciphertext, outputLength));
  }

  #send(thread: Thread, session: Handle, key: Handle, ciphertext: Buffer, outputLength: number): Promise<Buffer> {
    const id = this.#nextId++;
    return new Promise<Buffer>((resolve, reject) => {
      thread.pending.set(id, { resolve, reject });
      // The ciphertext usually views Node's shared 8 KiB buffer pool, which a structured clone would copy whole: it
      // travels in a buffer of its own, moved (transferred) rather than copied.
      const own = new Uint8Array(ciphertext);
      const request: DecryptRequest = { id, session, key, ciphertext: own, outputLength };
      thread.worker.postMessage(request, [own.buffer]);
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    const threads = this.#threads.splice(0);
    await Promise.all(threads.map((t) => t.worker.terminate()));
    for (const thread of threads) {
      for (const pending of thread.pending.values()) pending.reject(new HsmUnavailable('decrypt threads closed'));
    }
  }

  #leastBusy(): Thread {
    let best = this.#threads[0];
    if (best === undefined) throw new HsmUnavailable('decrypt threads closed');
    for (const thread of this.#threads) if (thread.pending.size < best.pending.size) best = thread;
    return best;
  }

  /**
   * A new thread, unless the limit is reached (callers hold a session each, so with a thread per session a decrypt
   * that finds every thread busy always may start one). A failed start stops the growing: the threads already running
   * keep serving, and a start that fails is not retried at every decrypt.
   */
  async #grown(): Promise<Thread | undefined> {
    if (this.#closed || this.#threads.length + this.#starting >= this.#limit) return undefined;
    this.#starting += 1;
    try {
      return await this.#spawn();
    } catch {
      this.#limit = Math.max(1, this.#threads.length);
      return undefined;
    } finally {
      this.#starting -= 1;
    }
  }

  #spawn(): Promise<Thread> {
    const worker = new Worker(new URL('./decrypt-thread.js', import.meta.url), { workerData: this.#setup });
    const thread: Thread = { worker, pending: new Map() };
    return new Promise<Thread>((ready, failed) => {
      worker.once('error', failed);
      worker.on('message', (message: DecryptReply | { ready: true }) => {
        if ('ready' in message) {
          // A thread that became ready after close() is not kept.
          if (this.#closed) {
            void worker.terminate();
            failed(new HsmUnavailable('decrypt threads closed'));
          } else {
            this.#threads.push(thread);
            ready(thread);
          }
          return;
        }
        const pending = thread.pending.get(message.id);
        thread.pending.delete(message.id);
        if (pending === undefined) return;
        if ('plaintext' in message) pending.resolve(Buffer.from(message.plaintext.buffer, message.plaintext.byteOffset, message.plaintext.byteLength));
        // The thread sends the CKR number only; the error is rebuilt from it, never from text.
        else pending.reject(message.ckr === undefined ? new Error('the decrypt thread failed outside PKCS#11') : pkcs11Error(message.ckr, 'C_Decrypt'));
      });
      worker.on('exit', () => {
        const index = this.#threads.indexOf(thread);
        if (index >= 0) this.#threads.splice(index, 1);
        for (const pending of thread.pending.values()) pending.reject(new HsmUnavailable('a decrypt thread stopped'));
        thread.pending.clear();
      });
    });
  }
}
