/**
 * The OpenAPI 3 description of the admin API (contract §6), served at /admin/api/openapi.json. Written by hand, as a
 * reader's document, except its words: every enum is a list of keys/vocabulary.ts or keys/lifecycle.ts, which the
 * service and the console use too. test/http/admin-openapi.test.ts holds it and the registered routes together,
 * test/http/vocabulary-drift.test.ts its enums and schemas and the service's answers and error codes.
 */
import { INITIAL_STATES, PERMANENT_STATES, SETTABLE_STATES } from '../keys/lifecycle.js';
import {
  APPROVAL_OPERATIONS,
  APPROVAL_STATUSES,
  AUDIT_EXPORT_FORMATS,
  AUDIT_FILTERS,
  AUDIT_KINDS,
  AUDIT_OUTCOMES,
  CHECK_STATUSES,
  EFFECTIVE_STATUSES,
  ERROR_CODES,
  GRANT_FIELDS,
  GRANT_KINDS,
  HSM_STATES,
  KEY_ORIGINS,
  KEY_STATES,
  PROVENANCE_VERDICTS,
  VAULT_STATUSES,
} from '../keys/vocabulary.js';
import { AUDIT_LIMIT_MAX } from './admin-audit-routes.js';

type Schema = Record<string, unknown>;

/** A string schema that allows exactly these words (a copy of the list: the document is served as JSON). */
const enumOf = (words: readonly string[]): Schema => ({ type: 'string', enum: [...words] });
const strings = (names: readonly string[]): Schema => Object.fromEntries(names.map((name) => [name, { type: 'string' }]));

const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: Schema): Schema => ({ content: { 'application/json': { schema } } });
const error = (description: string): Schema => ({ description, ...json(ref('Error')) });

const NAME = { name: 'name', in: 'path', required: true, schema: { type: 'string' }, description: 'key name (case-sensitive)' };
const APPROVAL_ID = { name: 'id', in: 'path', required: true, schema: { type: 'string' }, description: 'id of the proposal' };
const VAULT_NAME = { name: 'name', in: 'path', required: true, schema: { type: 'string' }, description: 'vault name (`default` until several vaults are configured)' };
/**
 * The filters of the audit routes, one parameter per word of vocabulary.ts AUDIT_FILTERS: a repeatable one is an
 * array (`?action=grant&action=revoke`), outcome and kind take the vocabulary's words.
 */
const AUDIT_FILTER_PARAMETERS = AUDIT_FILTERS.map((filter) => {
  const word = filter.name === 'outcome' ? enumOf(AUDIT_OUTCOMES) : filter.name === 'kind' ? enumOf(AUDIT_KINDS) : { type: 'string' };
  return { name: filter.name, in: 'query', description: filter.about, schema: filter.repeatable ? { type: 'array', items: word } : word };
});
const KEY_ID = { name: 'keyId', in: 'path', required: true, schema: { type: 'string' }, description: 'key id of the version' };

/** The answers every protected route may give besides its own. */
const COMMON_ERRORS = {
  '400': error('malformed body or parameter, or a step the rules refuse (`refused`)'),
  '401': error('no token, or a token that does not verify (`invalid_token`)'),
  '403': error('the token carries neither app role needed (`forbidden`); an approval by the proposer (`same_principal`) or by an app-only token the policy does not let approve (`app_only_approver`)'),
  '429': error('too many failed authentications from this address (`rate_limited`)'),
};
const KEY_ERRORS = { '404': error('no such key name or version (`not_found`)') };
const PROPOSED = { '202': { description: 'with a stored policy of two approvals: a proposal waiting for another person', ...json(ref('Proposed')) } };
const CHANGE_ERRORS = { ...KEY_ERRORS, '409': error('the state table or a concurrent change refuses the step, or the same step already waits for approval (`conflict`, with `existing`: the pending proposal\'s id)'), '413': error('body over 64 KiB'), '415': error('body not declared as JSON') };

function operation(summary: string, role: 'DKE.Auditor' | 'DKE.Admin', answer: Record<string, Schema>, extra: Schema = {}): Schema {
  return {
    summary,
    description: role === 'DKE.Admin' ? 'Needs the app role DKE.Admin.' : 'Needs the app role DKE.Auditor or DKE.Admin.',
    security: [{ entraBearer: [] }],
    ...extra,
    responses: { ...answer, ...COMMON_ERRORS, ...(role === 'DKE.Admin' ? CHANGE_ERRORS : KEY_ERRORS) },
  };
}

const body = (schema: Schema): Schema => ({ requestBody: { required: true, ...json(schema) } });
const grantBody = body({
  type: 'object',
  description: 'exactly one of user (an oid or a member UPN), group (object id) or role (app role value)',
  properties: strings(GRANT_FIELDS),
});

export function adminOpenApi(): Schema {
  return {
    openapi: '3.0.3',
    info: {
      title: 'dke-service admin API',
      version: '1',
      description:
        'Key administration over HTTPS with Entra ID bearer tokens (user or app-only) carrying an app role: DKE.Admin reads and changes, DKE.Auditor reads. Every change is recorded in the audit trail with the caller\'s oid and name. Bodies are the CLI\'s --json shapes.',
    },
    components: {
      securitySchemes: { entraBearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      schemas: {
        Error: {
          type: 'object',
          required: ['error', 'message'],
          properties: {
            error: { ...enumOf(ERROR_CODES), description: 'stable code' },
            message: { type: 'string', description: 'a sentence safe to show' },
            existing: { type: 'string', description: 'a duplicate proposal (409): the id of the one already pending' },
          },
        },
        AllowList: { type: 'object', properties: Object.fromEntries(GRANT_KINDS.map((kind) => [kind, { type: 'array', items: { type: 'string' } }])) },
        State: { ...enumOf(KEY_STATES), description: 'NIST SP 800-57 key state (contract §4)' },
        EffectiveStatus: {
          ...enumOf(EFFECTIVE_STATUSES),
          description:
            'a key or version all things considered (state, Enabled, a scheduled deletion, the emergency block, the private key in the token): a version is serving only while it decrypts, a key only while GET /{name} answers its public key',
        },
        Version: {
          type: 'object',
          required: ['name', 'keyId', 'state', 'enabled'],
          properties: { name: { type: 'string' }, keyId: { type: 'string' }, state: ref('State'), enabled: { type: 'boolean' }, notice: { type: 'string', description: 'set when the change blocked a version Office clients may hold in their key cache' } },
        },
        Deletion: { type: 'object', properties: { requestedAt: { type: 'string', format: 'date-time' }, destroyAt: { type: 'string', format: 'date-time' } } },
        Applied: {
          allOf: [
            ref('Version'),
            { type: 'object', properties: { applied: { type: 'boolean' }, decryptClearedInToken: { type: 'boolean' }, objectsDestroyed: { type: 'boolean' }, deletion: ref('Deletion') } },
          ],
        },
        Key: {
          type: 'object',
          required: ['name', 'allow', 'versions'],
          properties: {
            name: { type: 'string' },
            status: ref('EffectiveStatus'),
            statusUntil: { type: 'string', format: 'date-time', description: 'when the status ends by itself (a pending deletion\'s destroyAt)' },
            allow: ref('AllowList'),
            rotation: { type: 'object', properties: { every: { type: 'string' }, nextAt: { type: 'string', format: 'date-time', description: 'when the scheduler publishes the next version' } } },
            recentDecrypts: {
              type: 'object',
              description: 'decrypt decisions of the last `days` days, from the audit trail; refusals by the error code they were answered with',
              properties: { days: { type: 'integer' }, allowed: { type: 'integer' }, refused: { type: 'integer' }, refusedByReason: { type: 'object', additionalProperties: { type: 'integer' } } },
            },
            versions: {
              type: 'array',
              items: {
                type: 'object',
                properties: {
                  keyId: { type: 'string' },
                  state: ref('State'),
                  enabled: { type: 'boolean' },
                  status: ref('EffectiveStatus'),
                  statusUntil: { type: 'string', format: 'date-time' },
                  published: { type: 'boolean' },
                  origin: enumOf(KEY_ORIGINS),
                  vault: { type: 'string', description: 'the vault whose HSM holds the key pair' },
                  createdAt: { type: 'string', format: 'date-time' },
                  deletion: ref('Deletion'),
                  lastUsedAt: { type: 'string', format: 'date-time', description: 'last successful decrypt' },
                },
              },
            },
          },
        },
        Grant: { type: 'object', properties: { name: { type: 'string' }, kind: enumOf(GRANT_KINDS), value: { type: 'string' }, changed: { type: 'boolean' } } },
        Attestation: {
          type: 'object',
          properties: {
            name: { type: 'string' },
            versions: {
              type: 'array',
              items: {
                type: 'object',
                description: 'the PKCS#11 attributes as the token reports them (null: it would not say), and the verdict they prove',
                properties: {
                  keyId: { type: 'string' },
                  state: ref('State'),
                  origin: enumOf(KEY_ORIGINS),
                  ...Object.fromEntries(['sensitive', 'alwaysSensitive', 'extractable', 'neverExtractable', 'local', 'decryptClearedInToken'].map((name) => [name, { type: 'boolean', nullable: true }])),
                  modulusBits: { type: 'integer', nullable: true },
                  operations: { type: 'array', items: { type: 'string' } },
                  verdict: enumOf(PROVENANCE_VERDICTS),
                },
              },
            },
          },
        },
        AuditEntry: {
          type: 'object',
          properties: {
            seq: { type: 'integer' },
            at: { type: 'string', format: 'date-time' },
            actor: { type: 'string' },
            action: { type: 'string' },
            keyName: { type: 'string' },
            keyId: { type: 'string' },
            outcome: enumOf(AUDIT_OUTCOMES),
            reason: { type: 'string' },
            details: { type: 'object' },
            prevHash: { type: 'string' },
            hash: { type: 'string' },
          },
        },
        EmergencyBlock: {
          type: 'object',
          required: ['blocked'],
          properties: { blocked: { type: 'boolean' }, since: { type: 'string', format: 'date-time' }, by: { type: 'string' } },
        },
        Approval: {
          type: 'object',
          required: ['id', 'operation', 'requestedBy', 'requestedAt', 'expiresAt', 'status'],
          properties: {
            id: { type: 'string' },
            operation: enumOf(APPROVAL_OPERATIONS),
            keyName: { type: 'string' },
            keyId: { type: 'string' },
            state: ref('State'),
            requestedBy: { type: 'string' },
            requestedAt: { type: 'string', format: 'date-time' },
            expiresAt: { type: 'string', format: 'date-time' },
            status: enumOf(APPROVAL_STATUSES),
            decidedBy: { type: 'string' },
            decidedAt: { type: 'string', format: 'date-time' },
          },
        },
        Proposed: { type: 'object', required: ['approval'], properties: { approval: ref('Approval') } },
        DecryptActivity: {
          type: 'object',
          properties: {
            name: { type: 'string' },
            days: {
              type: 'array',
              description: '30 UTC days, oldest first',
              items: { type: 'object', properties: { date: { type: 'string', format: 'date' }, allowed: { type: 'integer' }, refused: { type: 'integer' } } },
            },
          },
        },
        ImpactPreview: {
          type: 'object',
          properties: {
            name: { type: 'string' },
            keyId: { type: 'string' },
            from: ref('State'),
            to: ref('State'),
            effect: { type: 'string', description: 'what the step does, and that it cannot be undone (or until when a delete can be cancelled)' },
            cancellableUntil: { type: 'string', format: 'date-time', description: 'a delete within the deletion window: when the objects would be destroyed were it applied now' },
            windowDays: { type: 'integer' },
            usage: { type: 'object', properties: { decrypts: { type: 'integer' }, distinctUsers: { type: 'integer' }, lastUse: { type: 'string', format: 'date-time' } } },
          },
        },
        Readiness: { type: 'object', properties: { ready: { type: 'boolean' }, checks: { type: 'object', additionalProperties: { type: 'object', properties: { status: enumOf(CHECK_STATUSES), checkedAt: { type: 'string', format: 'date-time' }, detail: { type: 'string' } } } } } },
        Policy: {
          type: 'object',
          required: ['approvalsRequired', 'deletionWindow', 'rotationMinimum', 'appOnlyMayApprove', 'deletionWindowMs'],
          properties: {
            approvalsRequired: { type: 'integer', minimum: 1, maximum: 2 },
            deletionWindow: { type: 'object', required: ['default', 'minimum'], properties: strings(['default', 'minimum']), additionalProperties: false },
            rotationMinimum: { type: 'string', description: 'the shortest rotation period accepted; the scheduler never rotates more often' },
            appOnlyMayApprove: { type: 'boolean', description: 'may an app-only token (no person) approve a proposal' },
            deletionWindowMs: { type: 'integer', description: 'the default deletion window in ms; 0: a delete destroys at once' },
          },
        },
        PolicyChange: {
          type: 'object',
          description: 'any part of Policy; what is left out stays as it is',
          properties: {
            approvalsRequired: { type: 'integer', minimum: 1, maximum: 2 },
            deletionWindow: { type: 'object', properties: strings(['default', 'minimum']), additionalProperties: false },
            rotationMinimum: { type: 'string', example: '1d' },
            appOnlyMayApprove: { type: 'boolean' },
          },
          additionalProperties: false,
        },
        ConsoleSettings: {
          type: 'object',
          properties: { clientId: { type: 'string', nullable: true }, authority: { type: 'string' }, authorizeUrl: { type: 'string' }, tokenUrl: { type: 'string' }, scope: { type: 'string' }, labelBaseUrl: { type: 'string', description: 'the DKE URL a sensitivity label names, without the key name' } },
        },
        AuditVerification: {
          type: 'object',
          description: 'head: the last entry as the head (kept apart from the entries) records it; anchor: the last entry moved to an archive, which the first stored entry links to (seq 0: nothing archived)',
          required: ['ok', 'entries', 'head', 'anchor'],
          properties: {
            ok: { type: 'boolean' },
            entries: { type: 'integer' },
            head: ref('ChainLink'),
            anchor: ref('ChainLink'),
            brokenAt: { type: 'integer' },
            problem: { type: 'string' },
          },
        },
        ChainLink: { type: 'object', required: ['seq', 'hash'], properties: { seq: { type: 'integer' }, hash: { type: 'string' } } },
        VaultList: { type: 'object', required: ['default', 'vaults'], properties: { default: { type: 'string', description: 'the vault new keys go to' }, vaults: { type: 'array', items: ref('Vault') } } },
        Vault: {
          type: 'object',
          required: ['name', 'library', 'status', 'sessions', 'sessionsInUse', 'connection'],
          properties: {
            name: { type: 'string' },
            library: { type: 'string', description: 'path of the PKCS#11 module' },
            tokenLabel: { type: 'string' },
            slot: { type: 'integer', description: 'index into the slots that hold a token, when the vault names a slot instead of a label' },
            status: enumOf(VAULT_STATUSES),
            sessions: { type: 'integer', description: 'sessions the service holds open on the token' },
            sessionsInUse: { type: 'integer' },
            connection: {
              type: 'object',
              properties: { state: enumOf(HSM_STATES), since: { type: 'string', format: 'date-time' }, detail: { type: 'string', nullable: true }, recoveries: { type: 'integer' } },
            },
          },
        },
        ProbeReport: {
          type: 'object',
          required: ['verdict', 'checks'],
          properties: {
            verdict: enumOf(CHECK_STATUSES),
            checks: {
              type: 'array',
              items: { type: 'object', required: ['name', 'status', 'detail'], properties: { name: { type: 'string' }, status: enumOf(CHECK_STATUSES), detail: { type: 'string', description: 'one sentence; on a failure or warning, what to ask the vendor' } } },
            },
          },
        },
      },
    },
    paths: {
      '/admin/api/openapi.json': { get: { summary: 'this document', responses: { '200': { description: 'OpenAPI 3 document' } } } },
      '/admin/api/keys': {
        get: operation('list key names and their versions', 'DKE.Auditor', { '200': { description: 'keys', ...json({ type: 'array', items: ref('Key') }) } }),
        post: operation('create a key name: RSA-2048 generated in the HSM, published', 'DKE.Admin', { '201': { description: 'created', ...json(ref('Version')) } }, body({
          type: 'object',
          required: ['name'],
          properties: { name: { type: 'string' }, state: enumOf(INITIAL_STATES), allow: ref('AllowList'), vault: { type: 'string', description: 'the vault whose HSM makes the key pair (default: the default vault); an inactive vault is 409' } },
        })),
      },
      '/admin/api/keys/{name}': {
        parameters: [NAME],
        get: operation('show a key name: every version, its state and which one is published', 'DKE.Auditor', { '200': { description: 'the key', ...json(ref('Key')) } }),
      },
      '/admin/api/keys/{name}/rotate': {
        parameters: [NAME],
        post: operation('a new Active version becomes the published one', 'DKE.Admin', { '201': { description: 'the new version', ...json(ref('Version')) } }, { requestBody: { required: false, ...json({
          type: 'object',
          properties: { vault: { type: 'string', description: 'the vault whose HSM makes the new version (default: the default vault); older versions keep decrypting from theirs; an inactive vault is 409' } },
        }) } }),
      },
      '/admin/api/keys/{name}/versions/{keyId}': {
        parameters: [NAME, KEY_ID],
        delete: operation(
          'delete a Pre-Active or Active version: it stops decrypting and being published at once; its HSM objects are destroyed when the policy\'s deletion window has passed (at once when 0)',
          'DKE.Admin',
          { '200': { description: 'scheduled (with `deletion`) or destroyed', ...json(ref('Applied')) }, ...PROPOSED },
          { parameters: [{ name: 'window', in: 'query', schema: { type: 'string', example: '30d' }, description: 'a deletion window other than the policy\'s default; one shorter than the policy\'s minimum is refused (400 `refused`)' }] },
        ),
      },
      '/admin/api/keys/{name}/versions/{keyId}/cancel-deletion': {
        parameters: [NAME, KEY_ID],
        post: operation('take back a scheduled delete before its destroyAt: the version is exactly as it was', 'DKE.Admin', { '200': { description: 'the version', ...json(ref('Version')) } }),
      },
      '/admin/api/keys/{name}/versions/{keyId}/enable': {
        parameters: [NAME, KEY_ID],
        post: operation('turn the reversible Enabled flag on', 'DKE.Admin', { '200': { description: 'the version', ...json(ref('Version')) } }),
      },
      '/admin/api/keys/{name}/versions/{keyId}/disable': {
        parameters: [NAME, KEY_ID],
        post: operation('turn the reversible Enabled flag off (decrypt and publishing stop at once)', 'DKE.Admin', { '200': { description: 'the version', ...json(ref('Version')) } }),
      },
      '/admin/api/keys/{name}/versions/{keyId}/state': {
        parameters: [NAME, KEY_ID],
        post: operation('move the version to another state (contract §4)', 'DKE.Admin', { '200': { description: 'applied', ...json(ref('Applied')) }, ...PROPOSED }, body({
          type: 'object',
          required: ['state'],
          properties: { state: enumOf(SETTABLE_STATES) },
        })),
      },
      '/admin/api/keys/{name}/grants': {
        parameters: [NAME],
        put: operation('allow a user, group or app role to decrypt with the key name', 'DKE.Admin', { '200': { description: 'granted', ...json(ref('Grant')) } }, grantBody),
        delete: operation('revoke a user, group or app role', 'DKE.Admin', { '200': { description: 'revoked', ...json(ref('Grant')) } }, grantBody),
      },
      '/admin/api/keys/{name}/rotation': {
        parameters: [NAME],
        put: operation('scheduled rotation: a new published version whenever the newest Active one is older than `every`', 'DKE.Admin', { '200': { description: 'the key', ...json(ref('Key')) } }, body({
          type: 'object',
          required: ['every'],
          properties: { every: { type: 'string', example: '90d' } },
        })),
        delete: operation('turn scheduled rotation off', 'DKE.Admin', { '200': { description: 'the key', ...json(ref('Key')) } }),
      },
      '/admin/api/keys/{name}/attestation': {
        parameters: [NAME],
        get: operation('PKCS#11 evidence of every version, read from the token, with a verdict', 'DKE.Auditor', { '200': { description: 'attestation', ...json(ref('Attestation')) } }),
      },
      '/admin/api/audit': {
        get: operation(
          'audit entries, newest first, filtered by the store; a read: it writes no entry. While older entries match, the answer carries `Link: </admin/api/audit?…&before=SEQ>; rel="next"`, the same query one page further',
          'DKE.Auditor',
          { '200': { description: 'entries', headers: { Link: { description: 'the next (older) page, while there is one', schema: { type: 'string' } } }, ...json({ type: 'array', items: ref('AuditEntry') }) } },
          {
            parameters: [
              ...AUDIT_FILTER_PARAMETERS,
              { name: 'before', in: 'query', schema: { type: 'integer', minimum: 1 }, description: 'only entries numbered (seq) below this: the next page' },
              { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: AUDIT_LIMIT_MAX, default: AUDIT_LIMIT_MAX }, description: 'at most this many entries, the newest' },
            ],
          },
        ),
      },
      '/admin/api/audit/export': {
        get: operation(
          'every entry the filters select, oldest first, as a download (Content-Disposition: attachment) that reads back into the same entries: JSON lines hold each entry as GET /admin/api/audit answers it; CSV has a header row of the entry\'s fields (details as JSON text), an empty cell for a field the entry does not have, and a leading apostrophe on a cell that starts with one or with = + - @ (a reader drops it)',
          'DKE.Auditor',
          { '200': { description: 'the export', content: { 'application/jsonl': { schema: { type: 'string' } }, 'text/csv': { schema: { type: 'string' } } } } },
          { parameters: [...AUDIT_FILTER_PARAMETERS, { name: 'format', in: 'query', schema: { ...enumOf(AUDIT_EXPORT_FORMATS), default: 'jsonl' }, description: 'the file format' }] },
        ),
      },
      '/admin/api/emergency-block': {
        get: operation('the kill switch: on or off, since when and set by whom', 'DKE.Auditor', { '200': { description: 'state', ...json(ref('EmergencyBlock')) } }),
        put: operation('turn the kill switch on: no version of any key decrypts (403 key_not_usable) or is published (GET 404)', 'DKE.Admin', {
          '200': { description: 'on', ...json(ref('EmergencyBlock')) },
        }),
        delete: operation('turn the kill switch off: each version\'s own state and Enabled flag apply again', 'DKE.Admin', { '200': { description: 'off', ...json(ref('EmergencyBlock')) }, ...PROPOSED }),
      },
      '/admin/api/approvals': {
        get: operation('every proposal of the two-person rule (DKE_APPROVALS_REQUIRED=2)', 'DKE.Auditor', { '200': { description: 'proposals', ...json({ type: 'array', items: ref('Approval') }) } }),
      },
      '/admin/api/approvals/{id}/approve': {
        parameters: [APPROVAL_ID],
        post: operation('approve another admin\'s proposal: the step runs now, re-checked against the state table (403 same_principal for the proposer, app_only_approver for an app-only token unless the policy allows it; 409 decided, expired, or the state it was made against changed, which fails it)', 'DKE.Admin', {
          '200': { description: 'approved, with the step\'s result', ...json({ type: 'object', properties: { approval: ref('Approval'), result: { type: 'object' } } }) },
        }),
      },
      '/admin/api/approvals/{id}/reject': {
        parameters: [APPROVAL_ID],
        post: operation('reject (or withdraw) a pending proposal', 'DKE.Admin', { '200': { description: 'rejected', ...json(ref('Approval')) } }),
      },
      '/admin/api/keys/{name}/activity': {
        parameters: [NAME],
        get: operation('beyond contract §6, for the console: decrypts of the key name per UTC day over 30 days, allowed and refused, from the audit trail (a read: it writes no entry)', 'DKE.Auditor', {
          '200': { description: 'activity', ...json(ref('DecryptActivity')) },
        }),
      },
      '/admin/api/keys/{name}/versions/{keyId}/impact': {
        parameters: [NAME, KEY_ID],
        get: operation('beyond contract §6, for the console\'s confirmations: what a permanent step would break (the CLI\'s preview without --yes); changes nothing', 'DKE.Auditor', { '200': { description: 'preview', ...json(ref('ImpactPreview')) }, '409': error('the state table refuses that step (`conflict`)') }, {
          parameters: [{ name: 'to', in: 'query', required: true, schema: enumOf(PERMANENT_STATES), description: 'the permanent step (destroyed: delete)' }],
        }),
      },
      '/admin/api/health': {
        get: operation('beyond contract §6, for the console: the readiness checks of this instance (as /health/ready on the DKE port)', 'DKE.Auditor', { '200': { description: 'readiness', ...json(ref('Readiness')) } }),
      },
      '/admin/api/policy': {
        get: operation('the admin policy kept in the store (contract §10), the same for every instance and path: approvals required, deletion windows, rotation minimum, whether app-only tokens may approve', 'DKE.Auditor', {
          '200': { description: 'policy', ...json(ref('Policy')) },
        }),
        put: operation('change the admin policy: a change that makes nothing weaker applies at once; one that lowers the approvals, shortens a window or the rotation minimum, or lets app-only tokens approve needs the approvals the policy in force requires (202 with a `set-policy` proposal)', 'DKE.Admin', {
          '200': { description: 'the policy now', ...json(ref('Policy')) },
          ...PROPOSED,
        }, body(ref('PolicyChange'))),
      },
      '/admin/config.json': {
        get: { summary: 'beyond contract §6: the console\'s sign-in settings (public client id, authority, token endpoint, scope); no token', responses: { '200': { description: 'settings', ...json(ref('ConsoleSettings')) } } },
      },
      '/admin/api/vaults': {
        get: operation('the vaults (HSM partitions) of this instance, with the state of its connection to each (contract §9)', 'DKE.Auditor', { '200': { description: 'vaults', ...json(ref('VaultList')) } }),
      },
      '/admin/api/vaults/{name}/probe': {
        parameters: [VAULT_NAME],
        post: operation(
          "will this HSM work? Identity, mechanisms, a temporary key made with the production template (generated, decrypted, changed, destroyed), data objects, sessions and login, each with a sentence (as `dke hsm probe`); nothing the service keeps changes",
          'DKE.Auditor',
          { '200': { description: 'the probe report', ...json(ref('ProbeReport')) } },
        ),
      },
      '/admin/api/audit/verify': {
        get: operation('check the hash chain of the audit trail', 'DKE.Auditor', { '200': { description: 'verification', ...json(ref('AuditVerification')) } }),
      },
    },
  };
}
