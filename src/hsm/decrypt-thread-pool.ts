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
 * the main thread it would stall every request. Each thread carries one operation at a time; callers bring a session
 * from the SessionPool, so threads never share a session. Jobs go to the thread with the fewest in flight.
 */
export class DecryptThreadPool implements SessionDecryptor {
  readonly #threads: Thread[] = [];
  #nextId = 1;

  static async start(setup: DecryptThreadSetup, size: number): Promise<DecryptThreadPool> {
    const pool = new DecryptThreadPool();
    try {
      await Promise.all(Array.from({ length: size }, () => pool.#spawn(setup)));
    } catch (error) {
      await pool.close();
      throw error;
    }
    return pool;
  }

  get size(): number {
    return this.#threads.length;
  }

  /** C_DecryptInit(RSA-OAEP-SHA256) + C_Decrypt on `session`; rejects with a Pkcs11Error carrying the CKR code. */
  decrypt(session: Handle, key: Handle, ciphertext: Buffer, outputLength: number): Promise<Buffer> {
    const thread = this.#leastBusy();
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

  #spawn(setup: DecryptThreadSetup): Promise<void> {
    const worker = new Worker(new URL('./decrypt-thread.js', import.meta.url), { workerData: setup });
    const thread: Thread = { worker, pending: new Map() };
    return new Promise<void>((ready, failed) => {
      worker.once('error', failed);
      worker.on('message', (message: DecryptReply | { ready: true }) => {
        if ('ready' in message) {
          this.#threads.push(thread);
          ready();
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
