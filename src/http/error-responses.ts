import { DkeError, DuplicateProposal, RetryLater } from '../keys/errors.js';
import { ERROR_STATUSES } from '../keys/vocabulary.js';

/** What the 401 challenge names: the first accepted audience and where Office gets a token. */
export interface ChallengeSettings {
  readonly audiences: readonly string[];
  readonly authorizationUrl: string;
}

export interface ErrorResponse {
  readonly status: number;
  readonly body: { error: string; message: string; existing?: string };
  readonly headers: Readonly<Record<string, string>>;
}

/** Errors of the HTTP layer itself (parsers, limiter, routing), shaped like the domain's. */
export class HttpError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/**
 * 429 for a client address past its limit of failed authentications (issue 18). It keeps the 401 challenge headers:
 * an Office client that is told to wait still learns where to get a token.
 */
export class RateLimited extends HttpError {
  constructor() {
    super(429, 'rate_limited', 'Too many failed authentications; try again later.');
  }
}

/** The status of each code a response can carry: keys/vocabulary.ts, shared with the OpenAPI document and the console. */
const STATUS_BY_CODE: Readonly<Record<string, number | undefined>> = ERROR_STATUSES;

/**
 * The one table from an error to a response (contract §1): status, `{"error","message"}` body and headers.
 * 401 carries the reference service's challenge so Office knows where to get a token; 503 carries Retry-After.
 * Anything unknown is a 500 with a fixed sentence: details go to the log, never to the caller.
 */
export function errorResponse(error: unknown, auth: ChallengeSettings): ErrorResponse {
  const status = error instanceof DkeError ? STATUS_BY_CODE[error.code] : undefined;
  if (error instanceof DkeError && status !== undefined) {
    const headers: Record<string, string> = {};
    if (status === 401) Object.assign(headers, challengeHeaders(auth));
    if (error instanceof RetryLater) headers['Retry-After'] = String(error.retryAfterSeconds);
    const existing = error instanceof DuplicateProposal && error.existing !== '' ? { existing: error.existing } : {};
    return { status, body: { error: error.code, message: error.message, ...existing }, headers };
  }
  if (error instanceof HttpError) {
    const headers = error instanceof RateLimited ? challengeHeaders(auth) : {};
    return { status: error.status, body: { error: error.code, message: error.message }, headers };
  }
  const parserError = bodyParserError(error);
  if (parserError !== undefined) return parserError;
  return { status: 500, body: { error: 'internal_error', message: 'The request could not be handled.' }, headers: {} };
}

/** The reference service's 401 headers; Office reads them to acquire a token. Byte-exact: breaks Office if changed. */
export function challengeHeaders(auth: ChallengeSettings): Record<string, string> {
  const resource = auth.audiences[0] ?? '';
  return {
    'WWW-Authenticate': `Bearer resource="${resource}", authorization="${auth.authorizationUrl}", realm="${resource}"`,
    resource,
    authorization: auth.authorizationUrl,
  };
}

/**
 * Errors of Express's own parts (body-parser, the router's parameter decoding) follow the http-errors convention: a
 * numeric 4xx `status` means the caller's request was at fault. They become a 4xx with our body, never a 500.
 */
function bodyParserError(error: unknown): ErrorResponse | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { status } = error as { status?: unknown };
  if (typeof status !== 'number' || status < 400 || status > 499) return undefined;
  if (status === 413) {
    return { status, body: { error: 'payload_too_large', message: 'The body is larger than the service accepts.' }, headers: {} };
  }
  if (status === 415) {
    return { status, body: { error: 'unsupported_media_type', message: 'The body must be uncompressed JSON in UTF-8.' }, headers: {} };
  }
  return { status: 400, body: { error: 'invalid_request', message: 'The request could not be read.' }, headers: {} };
}
