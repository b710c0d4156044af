import type { Writable } from 'node:stream';
import winston from 'winston';

export type Logger = winston.Logger;

/**
 * JSON lines on stdout (or `stream`, for tests). Callers pass structured fields only; nothing in this service ever
 * hands a token, PIN, ciphertext or plaintext to the logger.
 */
export function createLogger(level: string, stream?: Writable): Logger {
  return winston.createLogger({
    level,
    format: winston.format.combine(winston.format.timestamp(), winston.format.json()),
    defaultMeta: { service: 'dke-service' },
    transports: [stream ? new winston.transports.Stream({ stream }) : new winston.transports.Console()],
  });
}
