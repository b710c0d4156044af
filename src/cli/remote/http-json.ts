import { AdminRefused } from '../../app/admin-vocabulary.js';

/** An HTTP answer as the remote client reads it: status, headers and the JSON body (undefined when there is none). */
export interface JsonAnswer {
  readonly status: number;
  readonly headers: Headers;
  readonly body: unknown;
  /** The body as received (an export is JSON lines, not one JSON value). */
  readonly text: string;
}

/** No admin call or sign-in step waits longer than this for an answer. */
const REQUEST_TIMEOUT_MS = 30_000;

/**
 * One request with Node's fetch (TLS trusts NODE_EXTRA_CA_CERTS, as Node does). A server that cannot be reached is a
 * refusal naming it and the cause's code, never the request (it may carry a token).
 */
export async function requestJson(url: string, init: RequestInit = {}): Promise<JsonAnswer> {
  let response: Response;
  try {
    response = await fetch(url, { ...init, redirect: 'error', signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  } catch (error) {
    throw new AdminRefused(`Cannot reach ${new URL(url).origin} (${causeCode(error)}).`);
  }
  const text = await response.text();
  let body: unknown;
  try {
    body = text === '' ? undefined : JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: response.status, headers: response.headers, body, text };
}

/** A form POST, as OAuth 2.0 endpoints take them. */
export function postForm(url: string, form: Record<string, string>): Promise<JsonAnswer> {
  return requestJson(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' }, body: new URLSearchParams(form).toString() });
}

/** A string field of a JSON object answer, or undefined. */
export function field(body: unknown, name: string): string | undefined {
  const value = typeof body === 'object' && body !== null ? (body as Record<string, unknown>)[name] : undefined;
  return typeof value === 'string' ? value : typeof value === 'number' ? String(value) : undefined;
}

function causeCode(error: unknown): string {
  const cause = error instanceof Error ? (error.cause as { code?: unknown } | undefined) : undefined;
  if (cause !== undefined && typeof cause.code === 'string') return cause.code;
  if (error instanceof Error && error.name === 'TimeoutError') return `no answer in ${REQUEST_TIMEOUT_MS / 1000} s`;
  return error instanceof Error ? error.message : String(error);
}
