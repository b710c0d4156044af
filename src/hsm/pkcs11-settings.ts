import type { Secret } from '../keys/secret.js';

/** What the HSM adapter needs to reach the token; `config/` reads and checks it (DKE_PKCS11_*). */
export interface Pkcs11Config {
  readonly library: string;
  readonly libraryParameters?: string;
  readonly tokenLabel?: string;
  readonly slotIndex?: number;
  readonly pin?: Secret;
  /** Where the PIN was to be read from, to name the file when it is missing (the PIN itself is never named). */
  readonly pinFile?: string;
  readonly sessions?: number;
  /** Sessions when DKE_PKCS11_SESSIONS is unset: async PKCS#11 calls run on libuv's threads (UV_THREADPOOL_SIZE). */
  readonly defaultSessions: number;
  readonly queueTimeoutMs: number;
  /** Decrypt on worker threads (C_DecryptInit off the event loop); false uses pkcs11js's async C_Decrypt only. */
  readonly decryptThreads: boolean;
  /** Benchmarks only: a delay added to every decrypt on its thread, as a network HSM's round trip (issue 5). */
  readonly simulatedDelayMs: number;
}
