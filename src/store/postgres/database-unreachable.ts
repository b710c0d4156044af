import { DatabaseUnavailable } from '../../keys/errors.js';
import { describeDatabaseError, type DatabaseLocation } from './postgres-location.js';

/** Node's socket errors and PostgreSQL's connection-exception class (08…) and shutdown codes (57P0…). */
const CONNECTION_CODES = /^(ECONNREFUSED|ECONNRESET|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|EPIPE|08\w{3}|57P0[1-3])$/;
const CONNECTION_MESSAGES = /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|connection is closed/i;

/** Did this error come from losing the database (rather than from the query itself)? */
export function isConnectionLoss(error: unknown): boolean {
  if (error instanceof AggregateError) return error.errors.some(isConnectionLoss);
  const code = (error as { code?: unknown } | undefined)?.code;
  if (typeof code === 'string' && CONNECTION_CODES.test(code)) return true;
  return error instanceof Error && CONNECTION_MESSAGES.test(error.message);
}

/** A change that failed because the database is away becomes DatabaseUnavailable with its sentence; others pass through. */
export const DatabaseUnreachable = {
  from(error: unknown, location: DatabaseLocation, url: string): unknown {
    if (!isConnectionLoss(error)) return error;
    const detail = describeDatabaseError(error, url);
    const sentence = `${location.sentence.charAt(0).toUpperCase()}${location.sentence.slice(1)} cannot be reached (${detail}); nothing was changed. Try again when it is back.`;
    return new DatabaseUnavailable(sentence, detail);
  },
};
