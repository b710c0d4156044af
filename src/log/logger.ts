import type { Writable } from 'node:stream';
import pino from 'pino';
import type { Logger } from '../keys/ports.js';

export type { Logger };

/**
 * DKE_LOG_LEVEL takes winston's level names (contract §2); pino has no `http`, `verbose` or `silly`, so each maps to
 * the pino level that logs the same lines here (the service logs at error, warn, info and debug only).
 */
const PINO_LEVEL: Readonly<Record<string, pino.Level>> = {
  error: 'error',
  warn: 'warn',
  info: 'info',
  http: 'info',
  verbose: 'debug',
  debug: 'debug',
  silly: 'trace',
};

/**
 * JSON lines on stdout (or `stream`, for tests): `level`, `timestamp`, `service`, the caller's fields and `message`.
 * On stdout the lines are written asynchronously and in batches (pino's SonicBoom destination, flushed on exit), so
 * a request's log line costs the event loop a JSON serialisation, not a write to the pipe (issue 19). Callers pass
 * structured fields only; nothing in this service ever hands a token, PIN, ciphertext or plaintext to the logger.
 */
export function createLogger(level: string, stream?: Writable): Logger {
  const logger = pino(
    {
      level: PINO_LEVEL[level] ?? 'info',
      messageKey: 'message',
      base: { service: 'dke-service' },
      timestamp: () => `,"timestamp":"${new Date().toISOString()}"`,
      formatters: { level: (label) => ({ level: label }) },
    },
    stream ?? pino.destination({ dest: 1, sync: false }),
  );
  return {
    debug: (message, fields) => logger.debug(fields ?? {}, message),
    info: (message, fields) => logger.info(fields ?? {}, message),
    warn: (message, fields) => logger.warn(fields ?? {}, message),
    error: (message, fields) => logger.error(fields ?? {}, message),
  };
}
