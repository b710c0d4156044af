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

/** Calls the admin API with the signed-in user's token; the answer's JSON, or an ApiError with the service's sentence. */
export async function api<T>(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const session = currentSession();
  if (session === undefined) throw new ApiError(401, 'signed_out', 'You are signed out. Sign in again.');
  const answer = await fetch(`/admin/api${path}`, {
    method,
    headers: { authorization: `Bearer ${session.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const parsed = (await answer.json().catch(() => ({}))) as unknown;
  if (!answer.ok) {
    const error = parsed as { error?: string; message?: string };
    throw new ApiError(answer.status, error.error ?? 'error', error.message ?? `HTTP ${answer.status}`);
  }
  return { status: answer.status, body: parsed as T };
}

export const path = (...parts: string[]): string => parts.map((p) => `/${encodeURIComponent(p)}`).join('');
