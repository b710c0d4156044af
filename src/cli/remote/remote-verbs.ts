import { noVersionSentence } from '../../app/admin-context.js';
import type { KeyAdmin } from '../../app/key-admin.js';
import type { StateChangeOutcome } from '../../app/key-admin-views.js';
import { PERMANENT_STATES, RequestInvalid } from '../../app/admin-vocabulary.js';
import { deletionWindowQuery, policyChangeBody } from '../../app/admin-policy-change.js';
import { RemoteNotFound, type AdminCall } from './admin-client.js';

/**
 * What each key-admin operation is at the admin API (contract §6): one line per operation, its route and body. The
 * admin verbs call the same operations locally (src/cli/*-commands.ts), so `dke --server` prints what they print,
 * from the API's bodies, which are the CLI's `--json` shapes by contract. An operation missing here has no route (a
 * reconcile, an archive, an import run on the service's host) and is refused in remote mode (remote-admin.ts).
 */
export type RemoteVerbs = {
  readonly [M in keyof KeyAdmin]?: KeyAdmin[M] extends (...args: infer A) => infer R ? (call: AdminCall, ...args: A) => R | Promise<Awaited<R>> : never;
};

const KEYS = '/admin/api/keys';
const key = (name: string): string => `${KEYS}/${encodeURIComponent(name)}`;
const version = (name: string, keyId: string): string => `${key(name)}/versions/${encodeURIComponent(keyId)}`;

export const REMOTE_VERBS: RemoteVerbs = {
  list: (call) => body(call('GET', KEYS)),
  show: (call, name) => body(call('GET', key(name))),
  create: (call, name, options = {}) => body(call('POST', KEYS, { name, ...options })),
  rotate: (call, name) => body(call('POST', `${key(name)}/rotate`)),
  setEnabled: (call, name, keyId, enabled) => body(call('POST', `${version(name, keyId)}/${enabled ? 'enable' : 'disable'}`)),
  changeGrants: async (call, action, name, entries) => {
    const changes = [];
    for (const { kind, value } of entries) {
      const changed = await body<{ value: string; changed: boolean }>(call(action === 'grant' ? 'PUT' : 'DELETE', `${key(name)}/grants`, { [kind.slice(0, -1)]: value }));
      changes.push({ kind, value: changed.value, changed: changed.changed });
    }
    return changes;
  },
  // The API has no preview step: without --yes, a permanent step shows the impact the console shows (a read).
  setState: (call, name, keyId, to, confirmed) =>
    !confirmed && PERMANENT_STATES.includes(to) ? preview(call, name, keyId, to) : outcome(call('POST', `${version(name, keyId)}/state`, { state: to })),
  delete: (call, name, keyId, confirmed, windowMs) =>
    confirmed ? outcome(call('DELETE', `${version(name, keyId)}${windowMs === undefined ? '' : `?${deletionWindowQuery(windowMs)}`}`)) : preview(call, name, keyId, 'destroyed'),
  cancelDeletion: (call, name, keyId) => body(call('POST', `${version(name, keyId)}/cancel-deletion`)),
  setRotation: (call, name, every) => body(every === undefined ? call('DELETE', `${key(name)}/rotation`) : call('PUT', `${key(name)}/rotation`, { every })),
  attest: async (call, name, keyId) => {
    const attestation = await body<Awaited<ReturnType<KeyAdmin['attest']>>>(call('GET', `${key(name)}/attestation`));
    if (keyId === undefined) return attestation;
    const versions = attestation.versions.filter((v) => v.keyId === keyId);
    // The route attests every version; one that is not there is the local read's 404.
    if (versions.length === 0) throw new RemoteNotFound(noVersionSentence(name, keyId));
    return { ...attestation, versions };
  },
  emergencyBlock: (call) => body(call('GET', '/admin/api/emergency-block')),
  setEmergencyBlock: (call, on) => body(call(on ? 'PUT' : 'DELETE', '/admin/api/emergency-block')),
  approvals: (call) => body(call('GET', '/admin/api/approvals')),
  approve: (call, id) => body(call('POST', `/admin/api/approvals/${encodeURIComponent(id)}/approve`)),
  reject: (call, id) => body(call('POST', `/admin/api/approvals/${encodeURIComponent(id)}/reject`)),
  policy: (call) => body(call('GET', '/admin/api/policy')),
  setPolicy: (call, change) => body(call('PUT', '/admin/api/policy', policyChangeBody(change))),
  auditPage: (call, filter, paging = {}) => auditPages(call, filter, paging),
  auditExport: (call, filter) => auditLines(call, filter),
  verifyAudit: (call, archives = []) => {
    if (archives.length > 0) throw new RequestInvalid('Archive files are checked where they are: run "dke audit verify --archive …" without --server.');
    return body(call('GET', '/admin/api/audit/verify'));
  },
};

/** The JSON body of a 2xx answer, as the operation's own result type (the API's bodies are its shapes). */
async function body<T>(answer: ReturnType<AdminCall>): Promise<T> {
  return (await answer).body as T;
}

/** A state change as the local operation answers it: applied (200, the applied view) or proposed (202). */
async function outcome(answer: ReturnType<AdminCall>): Promise<StateChangeOutcome> {
  const { status, body: received } = await answer;
  if (status === 202) return { applied: false, approval: (received as { approval: Extract<StateChangeOutcome, { approval: unknown }>['approval'] }).approval };
  const { applied: _applied, decryptClearedInToken, objectsDestroyed, deletion, ...summary } = received as Record<string, unknown>;
  return {
    applied: true,
    version: summary as unknown as Extract<StateChangeOutcome, { applied: true }>['version'],
    ...(decryptClearedInToken !== undefined ? { decryptClearedInToken: decryptClearedInToken as boolean } : {}),
    ...(objectsDestroyed !== undefined ? { objectsDestroyed: objectsDestroyed as boolean } : {}),
    ...(deletion !== undefined ? { deletion: deletion as NonNullable<Extract<StateChangeOutcome, { applied: true }>['deletion']> } : {}),
  };
}

async function preview(call: AdminCall, name: string, keyId: string, to: string): Promise<StateChangeOutcome> {
  return { applied: false, preview: await body(call('GET', `${version(name, keyId)}/impact?to=${encodeURIComponent(to)}`)) };
}

type AuditFilter = Parameters<KeyAdmin['auditPage']>[0];
type AuditPage = Awaited<ReturnType<KeyAdmin['auditPage']>>;

/** The admin API answers at most this many audit entries a page (admin-audit-routes.ts AUDIT_LIMIT_MAX). */
const AUDIT_API_PAGE = 10_000;

/** A filter in the query words of GET /admin/api/audit (vocabulary.ts AUDIT_FILTERS), times as ISO instants. */
function auditQuery(filter: AuditFilter): URLSearchParams {
  const query = new URLSearchParams();
  const lists = [['actor', filter.actors], ['key', filter.keyNames], ['action', filter.actions], ['outcome', filter.outcomes]] as const;
  for (const [word, values] of lists) for (const value of values ?? []) query.append(word, value);
  if (filter.kind !== undefined) query.set('kind', filter.kind);
  if (filter.since !== undefined) query.set('since', filter.since.toISOString());
  if (filter.until !== undefined) query.set('until', filter.until.toISOString());
  return query;
}

/** As many pages as the local read would answer at once (every matching entry unless a limit), following `Link`. */
async function auditPages(call: AdminCall, filter: AuditFilter, paging: { readonly beforeSeq?: number; readonly limit?: number }): Promise<AuditPage> {
  const wanted = paging.limit ?? Number.MAX_SAFE_INTEGER;
  const entries: AuditPage['entries'] = [];
  let before = paging.beforeSeq;
  for (;;) {
    const query = auditQuery(filter);
    query.set('limit', String(Math.min(AUDIT_API_PAGE, wanted - entries.length)));
    if (before !== undefined) query.set('before', String(before));
    const answer = await call('GET', `/admin/api/audit?${query.toString()}`);
    entries.push(...(answer.body as AuditPage['entries']));
    const next = /[?&]before=(\d+)[^>]*>;\s*rel="next"/.exec(answer.headers.get('link') ?? '')?.[1];
    if (next === undefined) return { entries };
    if (entries.length >= wanted) return { entries, next: Number(next) };
    before = Number(next);
  }
}

/** Every matching entry, oldest first, from the JSON lines export (the CLI writes them in the format asked for). */
async function* auditLines(call: AdminCall, filter: AuditFilter): AsyncGenerator<AuditPage['entries'][number]> {
  const query = auditQuery(filter);
  query.set('format', 'jsonl');
  const answer = await call('GET', `/admin/api/audit/export?${query.toString()}`);
  for (const line of answer.text.split('\n')) if (line.trim() !== '') yield JSON.parse(line) as AuditPage['entries'][number];
}
