import { AdminRefused, RequestInvalid, type DkeError } from '../../app/admin-vocabulary.js';
import { field, requestJson, type JsonAnswer } from './http-json.js';
import { bearerFor } from './sign-in.js';

export type AdminMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

/** One call of the admin API: its path below the server (`/admin/api/…`, query included) and its JSON body. */
export type AdminCall = (method: AdminMethod, path: string, body?: unknown) => Promise<JsonAnswer>;

/** The refusal for a 409: the state table or a concurrent change refused the step (the local verbs' refusal, exit 2). */
export class RemoteConflict extends AdminRefused {
  override readonly code: string = 'conflict';
}

/** The refusal for a 404: no such key, version or proposal. */
export class RemoteNotFound extends AdminRefused {
  override readonly code: string = 'not_found';
}

/**
 * The admin API at `server` as the operator: each call carries the operator's token; a 401 refreshes it once. Answers
 * of 2xx come back as they are (200, 201, 202); every other status becomes the refusal the local verbs would raise
 * for the same cause, with the API's own sentence, so the exit codes match (exit-codes.ts).
 */
export function adminCall(server: string): AdminCall {
  return async (method, path, body) => {
    const send = (token: string): Promise<JsonAnswer> =>
      requestJson(`${server}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, accept: 'application/json', ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
    let answer = await send(await bearerFor(server));
    if (answer.status === 401) {
      // Refused before its end (revoked, signing key rolled): one refresh, then the API's verdict stands.
      const renewed = await bearerFor(server, true).catch(() => undefined);
      if (renewed !== undefined) answer = await send(renewed);
    }
    if (answer.status >= 200 && answer.status < 300) return answer;
    throw refusalFor(server, answer);
  };
}

function refusalFor(server: string, answer: JsonAnswer): DkeError {
  const message = field(answer.body, 'message') ?? `The admin API answered ${answer.status}.`;
  const code = field(answer.body, 'error');
  switch (answer.status) {
    case 401:
      return new AdminRefused(`The admin API at ${server} did not accept your sign-in (${code ?? 'invalid_token'}): run "dke login --server ${server}" (a token for another service or tenant is refused).`);
    case 403:
      return code === 'forbidden' ? new AdminRefused(`${message} Your sign-in to ${server} lacks it: ask an admin of the tenant to assign you that app role, then run "dke login --server ${server}" again.`) : new AdminRefused(message);
    case 404:
      return new RemoteNotFound(message);
    case 409:
      return new RemoteConflict(message);
    case 400:
    case 413:
    case 415:
      return new RequestInvalid(message);
    default:
      return new AdminRefused(`${message} (the admin API at ${server} answered ${answer.status}${code !== undefined ? ` ${code}` : ''})`);
  }
}
