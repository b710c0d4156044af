import { existsSync } from 'node:fs';
import type { Pkcs11Config } from '../config/config.js';
import { embeddedTokenSettings } from '../config/embedded-token.js';
import { DecryptThreadPool, type SessionDecryptor } from './decrypt-thread-pool.js';
import { HsmConnection, type HsmEvents } from './hsm-connection.js';
import { pkcs11, type Pkcs11Module } from './pkcs11.js';
import { HsmConfigurationError } from './hsm-errors.js';
import { Pkcs11KeyVault } from './pkcs11-key-vault.js';
import { Pkcs11Token } from './pkcs11-token.js';
import type { SessionPool } from './session-pool.js';

/** Async PKCS#11 calls run on libuv's thread pool (4 threads unless UV_THREADPOOL_SIZE says otherwise). */
const DEFAULT_SESSIONS = Number(process.env.UV_THREADPOOL_SIZE ?? 4);

export interface OpenHsm {
  readonly token: Pkcs11Token;
  readonly connection: HsmConnection;
  readonly pool: SessionPool;
  readonly vault: Pkcs11KeyVault;
  /**
   * Moves decryption onto worker threads, one per pooled session, so that C_DecryptInit (synchronous in pkcs11js,
   * and slow on NSS softoken or a network HSM) never runs on the event loop. The service calls it; the CLI need not.
   */
  startDecryptThreads(): Promise<void>;
  /** Stops the decrypt threads, closes the sessions and finalises the module. */
  close(): Promise<void>;
}

export interface OpenHsmOptions {
  readonly events?: HsmEvents;
  /** The service keeps running, not ready, when the token refuses its configuration (PIN); the CLI fails instead. */
  readonly tolerateMisconfiguration?: boolean;
  /** Test seams: wrap the pkcs11js module and the decrypt threads to inject faults. */
  readonly wrapModule?: (module: Pkcs11Module) => Pkcs11Module;
  readonly wrapDecryptor?: (decryptor: SessionDecryptor) => SessionDecryptor;
}

/**
 * Opens the configured token, logs in once and fills the session pool. Shared by the service and the CLI, which
 * reach the HSM through exactly the same code. `dataDir` locates the embedded development token.
 */
export function openHsm(config: Pkcs11Config, dataDir: string, options: OpenHsmOptions = {}): OpenHsm {
  if (config.embedded) prepareEmbeddedToken(dataDir);
  const wrap = options.wrapModule ?? ((m: Pkcs11Module) => m);
  const token = new Pkcs11Token(config, () => wrap(new pkcs11.PKCS11()));
  let vault: Pkcs11KeyVault | undefined;
  const events: HsmEvents = {
    ...options.events,
    onReset: () => {
      vault?.forget();
      options.events?.onReset?.();
    },
  };
  let connection: HsmConnection;
  try {
    token.open();
    connection = new HsmConnection(token, config.sessions ?? sessionsFor(token.maxSessionCount), config.queueTimeoutMs, events);
    connection.connect();
  } catch (error) {
    const keepRunning = options.tolerateMisconfiguration === true && error instanceof HsmConfigurationError && token.isOpen;
    if (!keepRunning) {
      token.close();
      throw error;
    }
    connection ??= new HsmConnection(token, 1, config.queueTimeoutMs, events);
  }
  vault = new Pkcs11KeyVault(connection);
  const openedVault = vault;
  let threads: DecryptThreadPool | undefined;
  return {
    token,
    connection,
    pool: connection.pool,
    vault: openedVault,
    startDecryptThreads: async () => {
      if (!config.decryptThreads || threads !== undefined || connection.status().state !== 'up') return;
      threads = await DecryptThreadPool.start(
        {
          library: config.library,
          ...(config.libraryParameters !== undefined ? { libraryParameters: config.libraryParameters } : {}),
          simulatedDelayMs: config.simulatedDelayMs,
        },
        connection.pool.size,
      );
      openedVault.useDecryptThreads(options.wrapDecryptor ? options.wrapDecryptor(threads) : threads);
    },
    close: async () => {
      openedVault.useDecryptThreads(undefined);
      await threads?.close();
      connection.close();
      token.close();
    },
  };
}

function sessionsFor(tokenLimit: number): number {
  return tokenLimit > 0 ? Math.max(1, Math.min(DEFAULT_SESSIONS, tokenLimit - 1)) : DEFAULT_SESSIONS;
}

/**
 * The embedded token is NSS softoken over a password-protected database; NSS re-derives the database key with
 * PBKDF2 on every use of a key (about 36 decrypts/s). One iteration is fine for a development token.
 */
function prepareEmbeddedToken(dataDir: string): void {
  const settings = embeddedTokenSettings(dataDir);
  if (!existsSync(settings.library)) {
    throw new HsmConfigurationError(
      `The embedded development token needs NSS softoken (${settings.library}); install Debian's libnss3 and libnss3-tools, or set DKE_PKCS11_LIBRARY.`,
    );
  }
  if (!existsSync(settings.pinFile)) {
    throw new HsmConfigurationError(
      `The embedded development token does not exist yet in ${settings.tokenDir}: run "npm run dev" (or "dke dev-token init") first, or set DKE_PKCS11_LIBRARY for a real HSM.`,
    );
  }
  process.env.NSS_MAX_MP_PBE_ITERATION_COUNT ??= '1';
}
