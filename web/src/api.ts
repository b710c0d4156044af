import { currentSession } from './sign-in';

/** A refusal of the admin API, with its JSON body's code and sentence (contract §6 error bodies). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Calls the admin API with the signed-in user's token; the answer's JSON and headers (the audit list's `Link` to its
 * next page), or an ApiError with the service's sentence.
 */
export async function api<T>(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<{ status: number; body: T; headers: Headers }> {
  const answer = await send(method, path, body);
  const parsed = (await answer.json().catch(() => ({}))) as unknown;
  return { status: answer.status, body: parsed as T, headers: answer.headers };
}

/** A file the admin API offers as a download (the audit export): its content and the name the service gives it. */
export async function download(path: string): Promise<{ blob: Blob; fileName: string }> {
  const answer = await send('GET', path, undefined);
  const fileName = /filename="([^"]+)"/.exec(answer.headers.get('content-disposition') ?? '')?.[1] ?? 'download';
  return { blob: await answer.blob(), fileName };
}

/** The request with the token; a refusal becomes an ApiError with the service's sentence. */
async function send(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body: unknown): Promise<Response> {
  const session = currentSession();
  if (session === undefined) throw new ApiError(401, 'signed_out', 'You are signed out. Sign in again.');
  const answer = await fetch(`/admin/api${path}`, {
    method,
    headers: { authorization: `Bearer ${session.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (!answer.ok) {
    const error = (await answer.json().catch(() => ({}))) as { error?: string; message?: string };
    throw new ApiError(answer.status, error.error ?? 'error', error.message ?? `HTTP ${answer.status}`);
  }
  return answer;
}

export const path = (...parts: string[]): string => parts.map((p) => `/${encodeURIComponent(p)}`).join('');
