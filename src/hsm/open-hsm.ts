import { DecryptThreadPool, type SessionDecryptor } from './decrypt-thread-pool.js';
import { HsmConnection, type HsmEvents } from './hsm-connection.js';
import { pkcs11, type Pkcs11Module } from './pkcs11.js';
import { HsmConfigurationError } from '../keys/errors.js';
import type { Pkcs11Config } from './pkcs11-settings.js';
import { Pkcs11KeyVault } from './pkcs11-key-vault.js';
import { Pkcs11Token } from './pkcs11-token.js';
import type { SessionPool } from './session-pool.js';

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
  /**
   * With several vaults (contract §9) a vault whose module or token cannot even be opened fails alone: its connection
   * stays misconfigured with the sentence, and the other vaults serve. Alone, that token stops the start as before.
   */
  readonly tolerateUnopenedToken?: boolean;
  /** Test seams: wrap the pkcs11js module and the decrypt threads to inject faults. */
  readonly wrapModule?: (module: Pkcs11Module) => Pkcs11Module;
  readonly wrapDecryptor?: (decryptor: SessionDecryptor) => SessionDecryptor;
}

/**
 * Opens the configured token, logs in once and fills the session pool. Shared by the service and the CLI, which
 * reach the HSM through exactly the same code (the composition root, src/main/, calls it).
 */
export function openHsm(config: Pkcs11Config, options: OpenHsmOptions = {}): OpenHsm {
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
  let connection: HsmConnection | undefined;
  try {
    token.open();
    connection = new HsmConnection(token, poolSize(config, token), config.queueTimeoutMs, events);
    connection.connect();
  } catch (error) {
    const tolerated = token.isOpen ? options.tolerateMisconfiguration : options.tolerateUnopenedToken;
    if (tolerated !== true || !(error instanceof HsmConfigurationError)) {
      token.close();
      throw error;
    }
    if (connection === undefined) {
      connection = new HsmConnection(token, 1, config.queueTimeoutMs, events);
      connection.refuse(error.message);
    }
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
    // In-flight operations finish first (on the threads or not), then the threads stop, then the module is finalised.
    close: async () => {
      await connection.close();
      openedVault.useDecryptThreads(undefined);
      await threads?.close();
      token.close();
    },
  };
}

/**
 * The sessions the service holds on an open token: DKE_PKCS11_SESSIONS, else as many as libuv has threads, and one
 * fewer than the token's own limit (the probe opens as many, to see that the token allows them).
 */
export function poolSize(config: Pkcs11Config, token: Pkcs11Token): number {
  return config.sessions ?? sessionsFor(token.maxSessionCount, config.defaultSessions);
}

function sessionsFor(tokenLimit: number, wanted: number): number {
  return tokenLimit > 0 ? Math.max(1, Math.min(wanted, tokenLimit - 1)) : wanted;
}
