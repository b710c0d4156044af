import { existsSync } from 'node:fs';
import type { Pkcs11Config } from '../config/config.js';
import { embeddedTokenSettings } from '../config/embedded-token.js';
import { DecryptThreadPool } from './decrypt-thread-pool.js';
import { HsmConfigurationError } from './hsm-errors.js';
import { Pkcs11KeyVault } from './pkcs11-key-vault.js';
import { Pkcs11Token } from './pkcs11-token.js';
import { SessionPool } from './session-pool.js';

/** Async PKCS#11 calls run on libuv's thread pool (4 threads unless UV_THREADPOOL_SIZE says otherwise). */
const DEFAULT_SESSIONS = Number(process.env.UV_THREADPOOL_SIZE ?? 4);

export interface OpenHsm {
  readonly token: Pkcs11Token;
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

/**
 * Opens the configured token, logs in once and fills the session pool. Shared by the service and the CLI, which
 * reach the HSM through exactly the same code. `dataDir` locates the embedded development token.
 */
export function openHsm(config: Pkcs11Config, dataDir: string): OpenHsm {
  if (config.embedded) prepareEmbeddedToken(dataDir);
  const token = new Pkcs11Token(config);
  token.open();
  const pool = new SessionPool(config.queueTimeoutMs);
  try {
    const first = token.openSession();
    token.login(first);
    const size = config.sessions ?? sessionsFor(token.maxSessionCount);
    const sessions = [first];
    while (sessions.length < size) sessions.push(token.openSession());
    pool.fill(sessions);
  } catch (error) {
    token.close();
    throw error;
  }
  const vault = new Pkcs11KeyVault(token, pool);
  let threads: DecryptThreadPool | undefined;
  return {
    token,
    pool,
    vault,
    startDecryptThreads: async () => {
      threads ??= await DecryptThreadPool.start(
        {
          library: config.library,
          ...(config.libraryParameters !== undefined ? { libraryParameters: config.libraryParameters } : {}),
          simulatedDelayMs: config.simulatedDelayMs,
        },
        pool.size,
      );
      vault.useDecryptThreads(threads);
    },
    close: async () => {
      vault.useDecryptThreads(undefined);
      await threads?.close();
      for (const session of pool.drain()) token.closeSession(session);
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
