import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import type { KeyAdmin } from '../app/key-admin.js';
import { appliedView, type EmergencyBlockView, type Proposed, type StateChangeOutcome } from '../app/key-admin-views.js';
import { activityStart, decryptsPerDay } from '../app/decrypt-activity.js';
import type { ReadinessReport } from '../app/readiness.js';
import type { Principal } from '../keys/access-policy.js';
import { AdminRefused, RequestInvalid, type NextStep } from '../keys/errors.js';
import { parseKeyState, type AllowList } from '../keys/key-version.js';
import { DEFAULT_INITIAL_STATE, INITIAL_STATES, PERMANENT_STATES, SETTABLE_STATES, stateList } from '../keys/lifecycle.js';
import { GRANT_FIELDS } from '../keys/vocabulary.js';
import type { VaultDirectory } from '../keys/vaults.js';
import { AUDIT_ROUTES, sendFile, type FileAnswer } from './admin-audit-routes.js';
import { DECRYPT_BODY_LIMIT_BYTES } from './dke-routes.js';
import { HttpError } from './error-responses.js';
import { VAULT_ROUTES } from './vault-routes.js';
import { POLICY_ROUTES } from './admin-policy-routes.js';
import { span } from '../app/admin-policy-change.js';

/** The app roles of the admin API (contract §6), as declared in the Entra app registration's `appRoles`. */
export const ADMIN_ROLE = 'DKE.Admin';
export const AUDITOR_ROLE = 'DKE.Auditor';

/** Reading needs either role; changing needs DKE.Admin. */
export type AdminNeed = 'read' | 'change';

/** What a handler gets: the key-admin service acting as the caller, and the request's parts. */
export interface AdminCall {
  readonly admin: KeyAdmin;
  readonly params: Readonly<Record<string, string>>;
  readonly body: unknown;
  readonly query: Readonly<Record<string, unknown>>;
  /** The instance's last readiness report (what /health/ready answers on the DKE port). */
  readonly readiness: () => ReadinessReport;
  readonly vaults: VaultDirectory;
}

export interface AdminAnswer {
  readonly status: number;
  readonly body: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

export interface AdminRoute {
  readonly method: 'get' | 'post' | 'put' | 'delete';
  /** The path as the OpenAPI document writes it (`{name}`); registered with Express as `:name`. */
  readonly path: string;
  readonly need: AdminNeed;
  handle(call: AdminCall): Promise<AdminAnswer | FileAnswer> | AdminAnswer;
}

/** A 200 answer; a promise is refused at compile time (it would be sent as `{}`). */
const ok = <T,>(body: T extends PromiseLike<unknown> ? never : T): AdminAnswer => ({ status: 200, body });
const created = (body: unknown): AdminAnswer => ({ status: 201, body });
const param = (call: AdminCall, name: string): string => call.params[name]!;

/** The console's decrypt chart covers this many days (contract §7: 30). */
export const ACTIVITY_DAYS = 30;

/**
 * Every route of contract §6 that exists so far, each calling the key-admin service as the CLI does, so the two
 * never differ. The OpenAPI document (admin-openapi.ts) describes exactly these; a test holds them together.
 */
export const ADMIN_ROUTES: readonly AdminRoute[] = [
  { method: 'get', path: '/admin/api/keys', need: 'read', handle: async ({ admin }) => ok(await admin.list()) },
  { method: 'get', path: '/admin/api/keys/{name}', need: 'read', handle: async (call) => ok(await call.admin.show(param(call, 'name'))) },
  {
    method: 'post',
    path: '/admin/api/keys',
    need: 'change',
    handle: async ({ admin, body }) => {
      const fields = bodyObject(body);
      const name = requiredString(fields, 'name');
      const state = optionalString(fields, 'state');
      const parsedState = state === undefined ? DEFAULT_INITIAL_STATE : parseKeyState(state);
      if (parsedState === undefined || !INITIAL_STATES.includes(parsedState)) throw new RequestInvalid(`"state" must be ${stateList(INITIAL_STATES)}.`);
      const allow = allowList(fields.allow);
      const vault = optionalString(fields, 'vault');
      return created(await admin.create(name, { state: parsedState, ...(allow ? { allow } : {}), ...(vault !== undefined ? { vault } : {}) }));
    },
  },
  {
    method: 'post',
    path: '/admin/api/keys/{name}/rotate',
    need: 'change',
    // The body is optional: `{"vault": NAME}` makes the new version in that vault (contract §9).
    handle: async (call) => {
      const vault = call.body === undefined ? undefined : optionalString(bodyObject(call.body), 'vault');
      return created(await call.admin.rotate(param(call, 'name'), vault !== undefined ? { vault } : {}));
    },
  },
  {
    method: 'post',
    path: '/admin/api/keys/{name}/versions/{keyId}/enable',
    need: 'change',
    handle: async (call) => ok(await call.admin.setEnabled(param(call, 'name'), param(call, 'keyId'), true)),
  },
  {
    method: 'post',
    path: '/admin/api/keys/{name}/versions/{keyId}/disable',
    need: 'change',
    handle: async (call) => ok(await call.admin.setEnabled(param(call, 'name'), param(call, 'keyId'), false)),
  },
  {
    method: 'post',
    path: '/admin/api/keys/{name}/versions/{keyId}/state',
    need: 'change',
    handle: async (call) => {
      const text = requiredString(bodyObject(call.body), 'state');
      const state = parseKeyState(text);
      if (state === undefined) throw new RequestInvalid(`"state" must be ${stateList(SETTABLE_STATES)}.`);
      // The API has no preview step: the call itself is the confirmation (the CLI's --yes).
      return applied(await call.admin.setState(param(call, 'name'), param(call, 'keyId'), state, true));
    },
  },
  {
    method: 'delete',
    path: '/admin/api/keys/{name}/versions/{keyId}',
    need: 'change',
    handle: async (call) => applied(await call.admin.delete(param(call, 'name'), param(call, 'keyId'), true, deletionWindow(call.query))),
  },
  {
    method: 'post',
    path: '/admin/api/keys/{name}/versions/{keyId}/cancel-deletion',
    need: 'change',
    handle: async (call) => ok(await call.admin.cancelDeletion(param(call, 'name'), param(call, 'keyId'))),
  },
  {
    method: 'put',
    path: '/admin/api/keys/{name}/rotation',
    need: 'change',
    handle: async (call) => ok(await call.admin.setRotation(param(call, 'name'), requiredString(bodyObject(call.body), 'every'))),
  },
  { method: 'delete', path: '/admin/api/keys/{name}/rotation', need: 'change', handle: async (call) => ok(await call.admin.setRotation(param(call, 'name'), undefined)) },
  { method: 'put', path: '/admin/api/keys/{name}/grants', need: 'change', handle: async (call) => ok(await changeGrant(call, 'grant')) },
  { method: 'delete', path: '/admin/api/keys/{name}/grants', need: 'change', handle: async (call) => ok(await changeGrant(call, 'revoke')) },
  { method: 'get', path: '/admin/api/keys/{name}/attestation', need: 'read', handle: async (call) => ok(await call.admin.attest(param(call, 'name'))) },
  ...AUDIT_ROUTES,
  { method: 'get', path: '/admin/api/audit/verify', need: 'read', handle: async ({ admin }) => ok(await admin.verifyAudit()) },
  { method: 'get', path: '/admin/api/emergency-block', need: 'read', handle: ({ admin }) => ok(admin.emergencyBlock()) },
  { method: 'put', path: '/admin/api/emergency-block', need: 'change', handle: async ({ admin }) => proposedOr(await admin.setEmergencyBlock(true)) },
  { method: 'delete', path: '/admin/api/emergency-block', need: 'change', handle: async ({ admin }) => proposedOr(await admin.setEmergencyBlock(false)) },
  // Beyond contract §6, for the console (§7): the decrypt chart, the impact preview before a confirmation, readiness.
  {
    method: 'get',
    path: '/admin/api/keys/{name}/activity',
    need: 'read',
    handle: async ({ admin, params }) => {
      const name = params.name!;
      // 404 for an unknown key name, as every key route (awaited: the store's reads may answer asynchronously).
      await admin.show(name);
      const now = new Date();
      const { entries } = await admin.auditPage({ keyNames: [name], kind: 'decrypt', since: activityStart(now, ACTIVITY_DAYS) });
      return ok({ name, days: decryptsPerDay(entries, now, ACTIVITY_DAYS) });
    },
  },
  {
    method: 'get',
    path: '/admin/api/keys/{name}/versions/{keyId}/impact',
    need: 'read',
    handle: async ({ admin, params, query }) => {
      const to = queryString(query, 'to');
      // Only the permanent steps have a preview. A read: it writes nothing, not even the refusal it may answer.
      const permanent = PERMANENT_STATES.find((state) => state === to);
      if (permanent === undefined) throw new RequestInvalid(`"to" must be ${stateList(PERMANENT_STATES)}.`);
      return ok(await admin.impact(params.name!, params.keyId!, permanent));
    },
  },
  { method: 'get', path: '/admin/api/health', need: 'read', handle: ({ readiness }) => ok(readiness()) },
  ...POLICY_ROUTES,
  { method: 'get', path: '/admin/api/approvals', need: 'read', handle: async ({ admin }) => ok(await admin.approvals()) },
  { method: 'post', path: '/admin/api/approvals/{id}/approve', need: 'change', handle: async (call) => ok(await call.admin.approve(param(call, 'id'))) },
  { method: 'post', path: '/admin/api/approvals/{id}/reject', need: 'change', handle: async (call) => ok(await call.admin.reject(param(call, 'id'))) },
  ...VAULT_ROUTES,
];

export interface AdminRoutesOptions {
  readonly authenticate: express.RequestHandler;
  /** The key-admin service acting for this caller (its oid and name go to the audit trail; its oid is its principal). */
  readonly keyAdmin: (actor: string, caller: { readonly principal: string; readonly appOnly?: boolean }) => KeyAdmin;
  readonly openApi: unknown;
  readonly readiness: () => ReadinessReport;
  readonly vaults: VaultDirectory;
}

/** The admin API's router: 415 → 401 → 403 → body (400, 413) → the key-admin service. */
export function adminRoutes(options: AdminRoutesOptions): Router {
  const router = express.Router({ caseSensitive: true });
  router.get('/admin/api/openapi.json', (_req: Request, res: Response) => {
    res.json(options.openApi);
  });
  const readJson = express.json({ type: () => true, limit: DECRYPT_BODY_LIMIT_BYTES, inflate: false, strict: true });
  for (const route of ADMIN_ROUTES) {
    const expressPath = route.path.replace(/\{(\w+)\}/g, ':$1');
    router[route.method](expressPath, requireJsonBody, options.authenticate, requireRole(route.need), readJson, async (req: Request, res: Response) => {
      const principal = res.locals.principal as Principal;
      const admin = options.keyAdmin(`${principal.oid} (${principal.auditName ?? 'no name'})`, { principal: principal.oid, ...(principal.appOnly === true ? { appOnly: true } : {}) });
      let answer: AdminAnswer | FileAnswer;
      try {
        answer = await route.handle({ admin, params: req.params as Record<string, string>, body: req.body as unknown, query: req.query, readiness: options.readiness, vaults: options.vaults });
      } catch (error) {
        // A refusal that names a next step names it as a route here, never as a `dke` command.
        throw error instanceof AdminRefused ? error.inWords(routeOfStep) : error;
      }
      if ('file' in answer) await sendFile(res, answer.file);
      else res.status(answer.status).set(answer.headers ?? {}).json(answer.body);
    });
  }
  return router;
}

/**
 * A refusal's next step in the admin API's words: the route that takes it (each one of ADMIN_ROUTES; a test holds
 * them together). There is no route for a reconcile (an intent whose holder is gone is taken over by every instance's
 * own job, src/app/intent-takeover.ts): the caller is told to retry.
 */
export function routeOfStep(step: NextStep): string {
  switch (step.kind) {
    case 'rotate-instead':
      return `use POST /admin/api/keys/${step.name}/rotate for a new version`;
    case 'delete-instead':
      return `use DELETE /admin/api/keys/${step.name}/versions/${step.keyId} to destroy it`;
    case 'cancel-deletion-first':
      return `cancel the deletion first (POST /admin/api/keys/${step.name}/versions/${step.keyId}/cancel-deletion)`;
    case 'cancel-deletion-restores':
      return `POST /admin/api/keys/${step.name}/versions/${step.keyId}/cancel-deletion brings it back`;
    case 'reconcile-if-died':
      return 'retry once it has finished (if the command running it died, the service finishes or rolls it back by itself within seconds of its lease passing)';
  }
}

/** 403 `forbidden` unless the token carries an app role that allows this route. */
function requireRole(need: AdminNeed): express.RequestHandler {
  return (_req: Request, res: Response, next: NextFunction): void => {
    const roles = (res.locals.principal as Principal).roles;
    const allowed = roles.includes(ADMIN_ROLE) || (need === 'read' && roles.includes(AUDITOR_ROLE));
    next(allowed ? undefined : new HttpError(403, 'forbidden', need === 'read' ? `This needs the app role ${AUDITOR_ROLE} or ${ADMIN_ROLE}.` : `This needs the app role ${ADMIN_ROLE}.`));
  };
}

/** A request that carries a body must declare it JSON (415 otherwise); bodiless calls (rotate, enable) need no type. */
function requireJsonBody(req: Request, _res: Response, next: NextFunction): void {
  const hasBody = Number(req.get('content-length') ?? 0) > 0 || req.get('transfer-encoding') !== undefined;
  const type = (req.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  if (!hasBody || type === 'application/json') {
    next();
    return;
  }
  next(new HttpError(415, 'unsupported_media_type', 'The body must be JSON (Content-Type: application/json).'));
}

/** 200 with what was done, or 202 with the proposal when the step waits for a second admin (contract §6). */
function applied(outcome: StateChangeOutcome): AdminAnswer {
  if (!outcome.applied && 'approval' in outcome) return { status: 202, body: { approval: outcome.approval } };
  // Confirmed calls apply, propose or throw; a preview here would be a bug, never an answer.
  if (!outcome.applied) throw new TypeError('a confirmed admin step returned a preview');
  return ok(appliedView(outcome));
}

function proposedOr(view: EmergencyBlockView | Proposed): AdminAnswer {
  return 'approval' in view ? { status: 202, body: view } : ok(view);
}

async function changeGrant(call: AdminCall, action: 'grant' | 'revoke'): Promise<{ name: string; kind: keyof AllowList; value: string; changed: boolean }> {
  const fields = bodyObject(call.body);
  const given = GRANT_FIELDS.filter((field) => fields[field] !== undefined);
  if (given.length !== 1) throw new RequestInvalid(`The body must name exactly one of ${stateList(GRANT_FIELDS.map((field) => `"${field}"`))}.`);
  const field = given[0]!;
  const value = requiredString(fields, field);
  const kind = `${field}s` as keyof AllowList;
  const name = param(call, 'name');
  const changed = action === 'grant' ? await call.admin.grant(name, kind, value) : await call.admin.revoke(name, kind, value);
  return { name, kind, value: value.trim(), changed };
}

function bodyObject(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new RequestInvalid('The body must be a JSON object.');
  return body as Record<string, unknown>;
}

function requiredString(fields: Record<string, unknown>, name: string): string {
  const value = optionalString(fields, name);
  if (value === undefined) throw new RequestInvalid(`"${name}" is required.`);
  return value;
}

function optionalString(fields: Record<string, unknown>, name: string): string | undefined {
  const value = fields[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length > 1024) throw new RequestInvalid(`"${name}" must be a string.`);
  return value;
}

function allowList(value: unknown): AllowList | undefined {
  if (value === undefined) return undefined;
  const fields = bodyObject(value);
  const strings = (kind: keyof AllowList): string[] => {
    const entries = fields[kind] ?? [];
    if (!Array.isArray(entries) || entries.length > 1000 || !entries.every((e) => typeof e === 'string' && e.length <= 1024)) {
      throw new RequestInvalid(`"allow.${kind}" must be a list of strings.`);
    }
    return entries as string[];
  };
  return { users: strings('users'), groups: strings('groups'), roles: strings('roles') };
}

/** `?window=7d` on a delete: a window other than the policy's default (never shorter than its minimum). */
function deletionWindow(query: Readonly<Record<string, unknown>>): number | undefined {
  const window = queryString(query, 'window');
  return window === undefined ? undefined : span(window, '"window"');
}

function queryString(query: Readonly<Record<string, unknown>>, name: string): string | undefined {
  const value = query[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new RequestInvalid(`"${name}" must be given once.`);
  return value;
}
