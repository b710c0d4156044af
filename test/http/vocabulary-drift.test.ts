// Issue 29: the service, the admin API's OpenAPI document and the console speak one vocabulary (src/keys/vocabulary.ts,
// the state table in src/keys/lifecycle.ts, the bodies in src/app/admin-shapes.ts). This file fails when they drift:
// a state the console cannot show or the document does not list, an enum written by hand, an error code the service
// can answer that the document does not name, a field a live answer carries that its schema leaves out. The type
// checks at the top fail at compile time, where a server type is still written apart from its vocabulary word.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'mocha';
import supertest from 'supertest';
import type * as shapes from '../../src/app/admin-shapes.js';
import type { ProvenanceVerdict, VersionAttestation } from '../../src/app/key-attestation.js';
import type { ReadinessReport } from '../../src/app/readiness.js';
import { auditCommand } from '../../src/cli/audit-commands.js';
import { adminOpenApi } from '../../src/http/admin-openapi.js';
import { errorResponse } from '../../src/http/error-responses.js';
import * as errors from '../../src/keys/errors.js';
import { INITIAL_STATES, isPermanentTransition, SETTABLE_STATES, STATE_RULES } from '../../src/keys/lifecycle.js';
import * as vocabulary from '../../src/keys/vocabulary.js';
import { STATUS_LABELS } from '../../src/keys/effective-status.js';
import { BADGE_TONES, deletableIn, DELETED_STATE, settableFrom, STATE_TONES, STATUS_TONES } from '../../web/src/vocabulary.js';
import { startTestEnv, TEST_ADMIN_AUDIENCE, type TestEnv } from '../support/test-env.js';

const { KEY_STATES, ERROR_CODES, ERROR_STATUSES } = vocabulary;

/** The compiled test sits in <repo>/<build-test folder>/test/http/; the sources are in <repo>. */
const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const STYLE = readFileSync(join(REPO, 'web', 'src', 'style.css'), 'utf8');

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;

/**
 * Server types still written beside their vocabulary word (in files that build them): each must equal it, or this
 * array does not type-check and `tsc -p tsconfig.test.json` fails.
 */
const SAME_TYPES: [
  Same<ReadinessReport, shapes.ReadinessView>,
  Same<ProvenanceVerdict, vocabulary.ProvenanceVerdict>,
  Same<VersionAttestation['verdict'], shapes.AttestationSummary['versions'][number]['verdict']>,
  Same<keyof shapes.AllowList, vocabulary.GrantKind>,
  Same<`${vocabulary.GrantField}s`, vocabulary.GrantKind>,
] = [true, true, true, true, true];

interface Schema {
  readonly $ref?: string;
  readonly allOf?: readonly Schema[];
  readonly type?: string;
  readonly enum?: readonly unknown[];
  readonly nullable?: boolean;
  readonly properties?: Readonly<Record<string, Schema>>;
  readonly additionalProperties?: Schema;
  readonly items?: Schema;
}

interface Document {
  readonly components: { readonly schemas: Readonly<Record<string, Schema>> };
  readonly paths: Readonly<Record<string, Readonly<Record<string, { responses?: Record<string, { content?: Record<string, { schema: Schema }> }> }>>>>;
}

const doc = adminOpenApi() as unknown as Document;
const schemaNamed = (name: string): Schema => doc.components.schemas[name]!;

/** A schema with its `$ref` followed and its `allOf` parts merged (the subset admin-openapi.ts writes). */
function resolved(schema: Schema): Schema {
  if (schema.$ref !== undefined) return resolved(schemaNamed(schema.$ref.replace('#/components/schemas/', '')));
  if (schema.allOf === undefined) return schema;
  const parts = schema.allOf.map(resolved);
  return { type: 'object', properties: Object.assign({}, ...parts.map((part) => part.properties ?? {})) };
}

/** What of `value` its schema does not document: an unknown field, a word outside an enum, a value of another type. */
function undocumented(value: unknown, schema: Schema, at: string): string[] {
  const s = resolved(schema);
  if (value === null) return s.nullable === true ? [] : [`${at}: null is not documented`];
  if (s.enum !== undefined && !s.enum.includes(value)) return [`${at}: ${JSON.stringify(value)} is not in the enum ${JSON.stringify(s.enum)}`];
  const wrongType = (expected: string): string[] => [`${at}: ${JSON.stringify(value)} is not ${expected}`];
  switch (s.type) {
    case 'string':
      return typeof value === 'string' ? [] : wrongType('a string');
    case 'integer':
      return Number.isInteger(value) ? [] : wrongType('an integer');
    case 'boolean':
      return typeof value === 'boolean' ? [] : wrongType('a boolean');
    case 'array':
      return Array.isArray(value) ? value.flatMap((item, i) => (s.items ? undocumented(item, s.items, `${at}[${i}]`) : [])) : wrongType('an array');
    default: {
      if (typeof value !== 'object' || Array.isArray(value)) return wrongType('an object');
      // An object schema with neither properties nor additionalProperties is free-form (an audit entry's details).
      if (s.properties === undefined && s.additionalProperties === undefined) return [];
      return Object.entries(value as Record<string, unknown>).flatMap(([key, field]) => {
        const fieldSchema = s.properties?.[key] ?? s.additionalProperties;
        return fieldSchema === undefined ? [`${at}.${key} is not documented`] : undocumented(field, fieldSchema, `${at}.${key}`);
      });
    }
  }
}

/** Every `enum` anywhere in the document, with where it is. */
function enumsIn(node: unknown, at = ''): { at: string; words: readonly unknown[] }[] {
  if (typeof node !== 'object' || node === null) return [];
  const own = 'enum' in node && Array.isArray(node.enum) ? [{ at, words: node.enum as unknown[] }] : [];
  return [...own, ...Object.entries(node).flatMap(([key, child]) => (key === 'enum' ? [] : enumsIn(child, `${at}/${key}`)))];
}

/** The error codes the HTTP layer writes itself (src/http/*.ts), with the status where the source states it. */
function httpLayerCodes(): { codes: Set<string>; statuses: Map<string, number[]> } {
  const dir = join(REPO, 'src', 'http');
  const text = readdirSync(dir)
    .filter((name) => name.endsWith('.ts'))
    .map((name) => readFileSync(join(dir, name), 'utf8'))
    .join('\n');
  const codes = new Set<string>();
  const statuses = new Map<string, number[]>();
  const withStatus = [/\b(?:HttpError|super)\(\s*(\d{3}),\s*'([a-z_]+)'/g, /\bstatus: '?(\d{3})[^,]*,\s*(?:body: \{ )?error: '([a-z_]+)'/g];
  for (const pattern of withStatus) {
    for (const [, status, code] of text.matchAll(pattern)) statuses.set(code!, [...(statuses.get(code!) ?? []), Number(status)]);
  }
  for (const pattern of [/\b(?:HttpError|super)\(\s*\d{3},\s*'([a-z_]+)'/g, /\berror: '([a-z_]+)'/g]) {
    for (const [, code] of text.matchAll(pattern)) codes.add(code!);
  }
  return { codes, statuses };
}

/**
 * Domain codes that are no answer: the HSM refusing the service's own configuration is the operator's to fix (the
 * log says how), so a caller gets a plain 500 `internal_error`.
 */
const ANSWERED_AS_INTERNAL_ERROR = ['hsm_misconfigured'] as const;

/** One instance of every DkeError class keys/errors.ts exports (abstract ones have no code and are left out). */
function domainErrors(): errors.DkeError[] {
  const classes = (Object.values(errors) as unknown[]).filter((value): value is new (message: string) => errors.DkeError => typeof value === 'function' && value.prototype instanceof errors.DkeError);
  return classes.map((DomainError) => new DomainError('drift test')).filter((error) => (error.code as string | undefined) !== undefined);
}

describe('issue 29: one vocabulary for the service, the OpenAPI document and the console', () => {
  it('the server types written apart from the vocabulary equal it (compile-time)', () => {
    assert.ok(SAME_TYPES.every((same) => same));
  });

  it('every state of the domain list has a rule and a label, a tone in the console coloured by style.css, and is in the OpenAPI State enum', () => {
    assert.deepEqual(schemaNamed('State').enum, [...KEY_STATES]);
    assert.deepEqual(Object.keys(STATE_RULES).sort(), [...KEY_STATES].sort(), 'the state table has exactly the states of the list');
    assert.deepEqual(Object.keys(STATE_TONES).sort(), [...KEY_STATES].sort(), "the console's tone table (web/src/vocabulary.ts) has exactly the states of the list");
    for (const state of KEY_STATES) {
      assert.match(STATE_RULES[state].label, /^[A-Z][A-Za-z-]+$/, `${state} has a label`);
      assert.ok(BADGE_TONES.includes(STATE_TONES[state]), `${state} has one of the console's tones`);
    }
    for (const tone of BADGE_TONES) assert.match(STYLE, new RegExp(`\\.tone-${tone}\\b[^{]*\\{[^}]*color:`), `style.css colours .tone-${tone}`);
  });

  it('every effective status (issue 27) has a label, a tone in the console coloured by style.css, and is the OpenAPI EffectiveStatus enum', () => {
    const { EFFECTIVE_STATUSES } = vocabulary;
    assert.deepEqual(schemaNamed('EffectiveStatus').enum, [...EFFECTIVE_STATUSES]);
    assert.deepEqual(Object.keys(STATUS_LABELS).sort(), [...EFFECTIVE_STATUSES].sort(), 'the labels of src/keys/effective-status.ts');
    assert.deepEqual(Object.keys(STATUS_TONES).sort(), [...EFFECTIVE_STATUSES].sort(), "the console's status tones (web/src/vocabulary.ts)");
    for (const status of EFFECTIVE_STATUSES) assert.ok(BADGE_TONES.includes(STATUS_TONES[status]), `${status} has one of the console's tones`);
    // Green means it serves: no other status may look like it.
    assert.deepEqual(EFFECTIVE_STATUSES.filter((status) => STATUS_TONES[status] === 'good'), ['serving']);
  });

  it("the moves the console offers are the ones the document's set-state body and impact preview accept", () => {
    const body = (doc.paths['/admin/api/keys/{name}/versions/{keyId}/state']!.post as unknown as { requestBody: { content: Record<string, { schema: Schema }> } }).requestBody;
    assert.deepEqual(body.content['application/json']!.schema.properties!.state!.enum, [...SETTABLE_STATES]);
    const impact = doc.paths['/admin/api/keys/{name}/versions/{keyId}/impact']!.get as unknown as { parameters: { name: string; schema: Schema }[] };
    const previewable = impact.parameters.find((p) => p.name === 'to')!.schema.enum!;
    for (const from of KEY_STATES) {
      for (const to of settableFrom(from)) {
        assert.ok(SETTABLE_STATES.includes(to), `${from} → ${to}: the console offers it, the API must take it`);
        if (isPermanentTransition(to)) assert.ok(previewable.includes(to), `${from} → ${to}: the console previews it first`);
      }
      if (deletableIn(from)) assert.ok(previewable.includes(DELETED_STATE), `delete from ${from}: the console previews it first`);
    }
    const create = (doc.paths['/admin/api/keys']!.post as unknown as { requestBody: { content: Record<string, { schema: Schema }> } }).requestBody;
    assert.deepEqual(create.content['application/json']!.schema.properties!.state!.enum, [...INITIAL_STATES]);
  });

  it('every enum of the OpenAPI document is a list of the vocabulary, and every list is used', () => {
    const lists: Record<string, readonly string[]> = {
      KEY_STATES,
      EFFECTIVE_STATUSES: vocabulary.EFFECTIVE_STATUSES,
      SETTABLE_STATES,
      INITIAL_STATES,
      PERMANENT_STATES: KEY_STATES.filter(isPermanentTransition),
      KEY_ORIGINS: vocabulary.KEY_ORIGINS,
      GRANT_KINDS: vocabulary.GRANT_KINDS,
      APPROVAL_OPERATIONS: vocabulary.APPROVAL_OPERATIONS,
      APPROVAL_STATUSES: vocabulary.APPROVAL_STATUSES,
      AUDIT_OUTCOMES: vocabulary.AUDIT_OUTCOMES,
      AUDIT_KINDS: vocabulary.AUDIT_KINDS,
      AUDIT_EXPORT_FORMATS: vocabulary.AUDIT_EXPORT_FORMATS,
      CHECK_STATUSES: vocabulary.CHECK_STATUSES,
      VAULT_STATUSES: vocabulary.VAULT_STATUSES,
      HSM_STATES: vocabulary.HSM_STATES,
      PROVENANCE_VERDICTS: vocabulary.PROVENANCE_VERDICTS,
      ERROR_CODES,
    };
    const enums = enumsIn(doc);
    const handWritten = enums.filter(({ words }) => !Object.values(lists).some((list) => JSON.stringify(list) === JSON.stringify(words)));
    assert.deepEqual(handWritten, [], 'enums that are no list of src/keys/vocabulary.ts or lifecycle.ts');
    const unused = Object.entries(lists).filter(([, list]) => !enums.some(({ words }) => JSON.stringify(list) === JSON.stringify(words)));
    assert.deepEqual(unused.map(([name]) => name), []);
  });

  it('the audit routes document one query parameter per filter word of the vocabulary, and `dke audit` has one option per word', () => {
    type Parameter = { name: string; in: string; description: string; schema: Schema };
    const parameters = (path: string): Parameter[] => (doc.paths[path]!.get as unknown as { parameters: Parameter[] }).parameters;
    const filters = vocabulary.AUDIT_FILTERS.map((filter) => filter.name);
    assert.deepEqual(parameters('/admin/api/audit').map((p) => p.name), [...filters, 'before', 'limit']);
    assert.deepEqual(parameters('/admin/api/audit/export').map((p) => p.name), [...filters, 'format']);
    for (const filter of vocabulary.AUDIT_FILTERS) {
      const documented = parameters('/admin/api/audit').find((p) => p.name === filter.name)!;
      assert.equal(documented.description, filter.about);
      assert.equal(documented.schema.type, filter.repeatable ? 'array' : 'string', `${filter.name} is documented as ${filter.repeatable ? '' : 'not '}repeatable`);
    }
    const options = auditCommand().options.map((option) => option.long);
    for (const name of filters) assert.ok(options.includes(`--${name}`), `dke audit has --${name}`);
  });

  it('every error code a domain failure is answered with is in the OpenAPI Error enum, with its status', () => {
    const found = domainErrors();
    assert.ok(found.length >= 15, `only ${found.length} error classes found in keys/errors.ts`);
    // A code missing from the vocabulary is answered as a bare 500 internal_error: only these are, on purpose.
    const unlisted = found.filter((error) => !(ERROR_CODES as readonly string[]).includes(error.code)).map((error) => error.code);
    assert.deepEqual([...new Set(unlisted)], [...ANSWERED_AS_INTERNAL_ERROR], 'keys/errors.ts codes that src/keys/vocabulary.ts does not give a status');
    const auth = { audiences: ['https://dke.test.example'], authorizationUrl: 'https://login.example/authorize' };
    const documented = schemaNamed('Error').properties!.error!.enum!;
    for (const error of found) {
      const answer = errorResponse(error, auth);
      assert.ok(documented.includes(answer.body.error), `${error.name} answers "${answer.body.error}", which the OpenAPI document does not name`);
      assert.equal(answer.status, ERROR_STATUSES[answer.body.error as vocabulary.ErrorCode], `${error.name} (${answer.body.error})`);
    }
  });

  it('every error code the HTTP layer writes is in the vocabulary with the status it is sent with, and the vocabulary names no code nothing sends', () => {
    const { codes, statuses } = httpLayerCodes();
    for (const known of ['forbidden', 'rate_limited', 'not_found', 'internal_error', 'headers_too_large', 'payload_too_large']) assert.ok(codes.has(known), `the scan of src/http finds ${known}`);
    for (const code of codes) assert.ok((ERROR_CODES as readonly string[]).includes(code), `src/http writes "${code}", which src/keys/vocabulary.ts does not list`);
    for (const [code, sent] of statuses) for (const status of sent) assert.equal(status, ERROR_STATUSES[code as vocabulary.ErrorCode], `"${code}" is sent with ${status}`);
    const domainCodes = new Set(domainErrors().map((error) => error.code));
    assert.deepEqual(ERROR_CODES.filter((code) => !codes.has(code) && !domainCodes.has(code)), [], 'codes in the vocabulary that nothing answers');
  });

  it('style.css colours every audit outcome and check status the console shows as a badge', () => {
    for (const outcome of vocabulary.AUDIT_OUTCOMES) assert.match(STYLE, new RegExp(`\\.outcome-${outcome}\\b`), outcome);
    for (const status of vocabulary.CHECK_STATUSES) assert.match(STYLE, new RegExp(`\\.${status}\\b[^{]*\\{[^}]*color:`), status);
  });

  it('no console file but web/src/vocabulary.ts spells a state: the others take them from the table', () => {
    const spelled = new RegExp(`['"\`](${KEY_STATES.join('|')})['"\`]`);
    const files = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((entry) => (entry.isDirectory() ? files(join(dir, entry.name)) : /\.tsx?$/.test(entry.name) ? [join(dir, entry.name)] : []));
    const copies = files(join(REPO, 'web', 'src')).filter((file) => !file.endsWith(join('web', 'src', 'vocabulary.ts')) && spelled.test(readFileSync(file, 'utf8')));
    assert.deepEqual(copies, []);
  });

  describe('live answers of the admin API carry only what their OpenAPI schema documents', () => {
    let env: TestEnv;
    const tokens = { admin: '', auditor: '' };
    before(async () => {
      // Two admins for a permanent step, so that the proposal's shape (202) is answered too.
      env = await startTestEnv({ settings: { DKE_APPROVALS_REQUIRED: '2' } });
      for (const role of ['admin', 'auditor'] as const) tokens[role] = await env.issuer.issueToken({ audience: TEST_ADMIN_AUDIENCE, roles: [role === 'admin' ? 'DKE.Admin' : 'DKE.Auditor'] });
    });
    after(() => env?.close());

    /** The problems of one answer against the schema the document gives its route, method and status. */
    function problems(path: string, method: string, res: supertest.Response): string[] {
      const response = doc.paths[path]?.[method]?.responses?.[String(res.status)] ?? (res.status >= 400 ? { content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } } : undefined);
      if (response === undefined) return [`${method.toUpperCase()} ${path}: status ${res.status} is not documented`];
      const schema = response.content?.['application/json']?.schema;
      if (schema === undefined) return [`${method.toUpperCase()} ${path} ${res.status}: no schema`];
      return undocumented(res.body, schema, `${method.toUpperCase()} ${path} ${res.status}`);
    }

    it('keys, versions, state changes, a proposal, grants, rotation, previews, audit, activity, attestation, health and errors', async () => {
      const http = supertest(env.service.adminApp);
      const as = (role: keyof typeof tokens, req: supertest.Test): supertest.Test => req.set('Authorization', `Bearer ${tokens[role]}`);
      const found: string[] = [];
      const check = async (path: string, method: 'get' | 'post' | 'put' | 'delete', req: supertest.Test, expected: number): Promise<supertest.Response> => {
        const res = await req;
        assert.equal(res.status, expected, `${method.toUpperCase()} ${path}: ${JSON.stringify(res.body)}`);
        found.push(...problems(path, method, res));
        return res;
      };
      const name = 'drift-key';
      const made = await check('/admin/api/keys', 'post', as('admin', http.post('/admin/api/keys')).send({ name, state: 'pre-active' }), 201);
      const keyId = (made.body as shapes.VersionSummary).keyId;
      const version = `/admin/api/keys/${name}/versions/${keyId}`;
      await check('/admin/api/keys/{name}/versions/{keyId}/state', 'post', as('admin', http.post(`${version}/state`)).send({ state: 'active' }), 200);
      await check('/admin/api/keys/{name}/rotate', 'post', as('admin', http.post(`/admin/api/keys/${name}/rotate`)), 201);
      await check('/admin/api/keys/{name}/grants', 'put', as('admin', http.put(`/admin/api/keys/${name}/grants`)).send({ user: 'alice@contoso.dev' }), 200);
      await check('/admin/api/keys/{name}/rotation', 'put', as('admin', http.put(`/admin/api/keys/${name}/rotation`)).send({ every: '90d' }), 200);
      await check('/admin/api/keys/{name}/versions/{keyId}/disable', 'post', as('admin', http.post(`${version}/disable`)), 200);
      await check('/admin/api/keys/{name}/versions/{keyId}/impact', 'get', as('auditor', http.get(`${version}/impact?to=deactivated`)), 200);
      await check('/admin/api/keys/{name}/versions/{keyId}/state', 'post', as('admin', http.post(`${version}/state`)).send({ state: 'deactivated' }), 202);
      await check('/admin/api/keys/{name}/versions/{keyId}', 'delete', as('admin', http.delete(version)), 202);
      for (const [path, url] of [
        ['/admin/api/keys', '/admin/api/keys'],
        ['/admin/api/keys/{name}', `/admin/api/keys/${name}`],
        ['/admin/api/keys/{name}/activity', `/admin/api/keys/${name}/activity`],
        ['/admin/api/keys/{name}/attestation', `/admin/api/keys/${name}/attestation`],
        ['/admin/api/approvals', '/admin/api/approvals'],
        ['/admin/api/audit', '/admin/api/audit'],
        ['/admin/api/audit/verify', '/admin/api/audit/verify'],
        ['/admin/api/emergency-block', '/admin/api/emergency-block'],
        ['/admin/api/health', '/admin/api/health'],
        ['/admin/api/vaults', '/admin/api/vaults'],
        ['/admin/api/policy', '/admin/api/policy'],
      ] as const) {
        await check(path, 'get', as('auditor', http.get(url)), 200);
      }
      await check('/admin/config.json', 'get', http.get('/admin/config.json'), 200);
      // Errors: no token, a role that may only read, no such key, a state the table refuses.
      await check('/admin/api/keys', 'get', http.get('/admin/api/keys'), 401);
      await check('/admin/api/keys/{name}/rotate', 'post', as('auditor', http.post(`/admin/api/keys/${name}/rotate`)), 403);
      await check('/admin/api/keys/{name}', 'get', as('auditor', http.get('/admin/api/keys/no-such-key')), 404);
      await check('/admin/api/keys/{name}/versions/{keyId}/state', 'post', as('admin', http.post(`${version}/state`)).send({ state: 'pre-active' }), 409);
      assert.deepEqual(found, []);
    });
  });
});
