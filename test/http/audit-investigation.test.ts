/**
 * Issue 27, contract §3 `dke audit` and §6 `GET /admin/api/audit`: the audit trail as an investigator reads it, on
 * both engines. The filters (actor, key, action, outcome, kind, time range) are applied by the store, so a flood of
 * refused decrypts never pushes an admin action out of view; pages follow a cursor on the entry number through the
 * whole trail; an export of a filtered range (JSON lines, CSV) reads back into the same entries; reads write nothing;
 * a create with an allow list records each grant.
 */
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { after, before, describe, it } from 'mocha';
import supertest from 'supertest';
import type { AuditEntry } from '../../src/keys/ports.js';
import { entriesFromCsv } from '../support/audit-csv.js';
import { versionJwk } from '../support/decrypt-client.js';
import { encryptLikeOffice } from '../support/office-client.js';
import { listenOnLoopback } from '../support/listening-server.js';
import { freshPostgresDatabase } from '../support/postgres.js';
import { runCliAsync } from '../support/run-cli.js';
import { startTestEnv, TEST_ADMIN_AUDIENCE, type TestEnv } from '../support/test-env.js';

const ADMIN_OID = 'a0000000-0000-4000-8000-0000000000a1';
const ADMIN_ACTOR = `${ADMIN_OID} (admin@contoso.dev)`;
// More than the 200 entries of a page, so the newest page holds refusals only and paging takes two pages.
const REFUSALS = 250;
/** A CLI actor a spreadsheet would run as a formula, with a comma and quotes: the CSV must carry it unchanged. */
const ODD_ACTOR = '=HYPERLINK("http://x"), "odd" actor';

/** The body of a download as text, whatever its media type. */
const asText = (req: supertest.Test): supertest.Test =>
  req.buffer(true).parse((res, done) => {
    let text = '';
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => (text += chunk));
    res.on('end', () => done(null, text));
  });

for (const engine of ['sqlite', 'postgres'] as const) {
  describe(`issue 27: the audit trail for investigations, filtered by the store (${engine})`, function () {
    this.timeout(20_000);
    let env: TestEnv;
    let api: ReturnType<typeof supertest>;
    const tokens = { admin: '', auditor: '' };
    let floodedKeyId = '';
    let floodMs = 0;
    const as = (role: keyof typeof tokens, req: supertest.Test): supertest.Test => req.set('Authorization', `Bearer ${tokens[role]}`);
    const audit = async (query: string): Promise<AuditEntry[]> => {
      const res = await as('auditor', api.get(`/admin/api/audit?${query}`));
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return res.body as AuditEntry[];
    };
    const cli = async (...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> =>
      runCliAsync(args, { ...env.cliEnv, DKE_ADMIN_ACTOR: 'admin@contoso.dev' });

    before(async function () {
      this.timeout(60_000);
      const settings: Record<string, string> = engine === 'postgres' ? { DKE_DATABASE_URL: await freshPostgresDatabase('audit-investigation') } : {};
      env = await startTestEnv({ settings });
      api = supertest(env.service.adminApp);
      tokens.admin = await env.issuer.issueToken({ audience: TEST_ADMIN_AUDIENCE, upn: 'admin@contoso.dev', oid: ADMIN_OID, roles: ['DKE.Admin'] });
      tokens.auditor = await env.issuer.issueToken({ audience: TEST_ADMIN_AUDIENCE, upn: 'auditor@contoso.dev', roles: ['DKE.Auditor'] });
      // The admin action to find, then a flood of refused decrypts after it (real requests by a user with no grant).
      floodedKeyId = (await env.admin.create('flooded', { allow: { users: ['alice@contoso.dev'], groups: [], roles: [] } })).keyId;
      await as('admin', api.put('/admin/api/keys/flooded/grants').send({ user: 'erin@contoso.dev' })).expect(200);
      const body = JSON.stringify({ alg: 'RSA-OAEP-256', value: encryptLikeOffice(await versionJwk(env, 'flooded', floodedKeyId), Buffer.from('x')) });
      const mallory = await env.token({ upn: 'mallory@contoso.dev' });
      const statuses: number[] = [];
      let sent = 0;
      // One listening server and kept-alive connections, as Office clients reach the service.
      const listening = await listenOnLoopback(env);
      const started = performance.now();
      try {
        await Promise.all(
          Array.from({ length: 25 }, async () => {
            while (sent < REFUSALS) {
              sent += 1;
              const res = await fetch(`http://127.0.0.1:${listening.port}/flooded/${floodedKeyId}/decrypt`, {
                method: 'POST',
                headers: { 'content-type': 'application/json', authorization: `Bearer ${mallory}` },
                body,
              });
              await res.arrayBuffer();
              statuses.push(res.status);
            }
          }),
        );
      } finally {
        floodMs = performance.now() - started;
        await listening.close();
      }
      assert.deepEqual([...new Set(statuses)], [403]);
      assert.equal(statuses.length, REFUSALS);
    });
    after(() => env?.close());

    it(`${REFUSALS} refused decrypts do not hide an admin action from the admin filter (API)`, async () => {
      // What the old console read (the newest window) is nothing but refusals now...
      const window = await audit('limit=200');
      assert.ok(window.every((e) => e.action === 'decrypt' && e.outcome === 'denied'), 'the newest 200 entries are all refusals');
      // ...and the store's filter still finds the admin action, first.
      const [newestAdmin] = await audit('kind=admin&limit=1');
      assert.deepEqual([newestAdmin?.actor, newestAdmin?.action, newestAdmin?.keyName, newestAdmin?.details], [ADMIN_ACTOR, 'grant', 'flooded', { kind: 'users', value: 'erin@contoso.dev', changed: true }]);
      assert.deepEqual((await audit('key=flooded&kind=admin')).map((e) => e.action), ['grant', 'grant', 'create']);
      // Actor by any part of its text, in any case; outcome; several values of one filter.
      assert.deepEqual((await audit('actor=ADMIN%40Contoso.dev&key=flooded')).map((e) => e.seq), [newestAdmin!.seq]);
      assert.equal((await audit('key=flooded&outcome=denied&outcome=refused')).length, REFUSALS);
      assert.deepEqual((await audit('key=flooded&action=create&action=grant')).map((e) => e.action), ['grant', 'grant', 'create']);
      assert.equal((await audit('key=flooded&kind=decrypt&actor=mallory')).length, REFUSALS);
      console.log(`      ${REFUSALS} refused decrypts over HTTP, 25 at a time: ${Math.round(floodMs)} ms`);
    });

    it('pages newest first through the whole filtered trail, following the Link header', async () => {
      const seen: number[] = [];
      let url: string | undefined = '/admin/api/audit?key=flooded&outcome=denied&limit=200';
      const pageSizes: number[] = [];
      while (url !== undefined) {
        const res: supertest.Response = await as('auditor', api.get(url)).expect(200);
        pageSizes.push(res.body.length);
        seen.push(...(res.body as AuditEntry[]).map((e) => e.seq));
        const link = res.headers.link as string | undefined;
        url = link === undefined ? undefined : /^<([^>]+)>; rel="next"$/.exec(link)![1];
      }
      assert.deepEqual(pageSizes, [200, REFUSALS - 200]);
      assert.equal(new Set(seen).size, REFUSALS);
      assert.deepEqual(seen, [...seen].sort((a, b) => b - a), 'newest first, no entry twice');
      // A span (since=1h) goes to the next page as the instant this page used: counted again from a later "now", the
      // range would move and drop its oldest entries.
      const spanned = await as('auditor', api.get('/admin/api/audit?key=flooded&since=1h&limit=1')).expect(200);
      const nextPage = new URL(/^<([^>]+)>; rel="next"$/.exec(spanned.headers.link as string)![1]!, 'http://admin.test');
      assert.match(nextPage.searchParams.get('since') ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      // A time range: until excludes, since includes.
      const [newest] = await audit('key=flooded&limit=1');
      const instant = await audit(`key=flooded&since=${encodeURIComponent(newest!.at)}&until=${encodeURIComponent(new Date(Date.parse(newest!.at) + 1).toISOString())}`);
      assert.ok(instant.some((e) => e.seq === newest!.seq));
      assert.ok(instant.every((e) => e.at === newest!.at));
      const [created] = await audit('key=flooded&action=create');
      assert.deepEqual(await audit(`key=flooded&until=${encodeURIComponent(created!.at)}`), []);
    });

    it(`dke audit takes the same filters: ${REFUSALS} refusals do not hide the admin action from --admin-only; repeated --action, --actor, --outcome, --limit, --before-seq`, async () => {
      const admin = await cli('audit', '--admin-only', '--key', 'flooded', '--action', 'create', '--action', 'grant', '--json');
      assert.equal(admin.status, 0, admin.stderr);
      const found = JSON.parse(admin.stdout) as AuditEntry[];
      assert.deepEqual(found.map((e) => e.action), ['grant', 'grant', 'create']);
      assert.deepEqual([found[0]!.actor, found[0]!.details], [ADMIN_ACTOR, { kind: 'users', value: 'erin@contoso.dev', changed: true }]);
      const page = await cli('audit', '--key', 'flooded', '--outcome', 'denied', '--actor', 'MALLORY', '--limit', '2');
      assert.equal(page.status, 0, page.stderr);
      const lines = page.stdout.trimEnd().split('\n');
      assert.equal(lines.length, 3);
      assert.match(lines[0]!, / \(mallory@contoso\.dev\) decrypt flooded\/\S+ denied/);
      const next = /^Older entries match: add --before-seq (\d+)\.$/.exec(lines[2]!);
      assert.ok(next, lines[2]);
      const older = JSON.parse((await cli('audit', '--key', 'flooded', '--outcome', 'denied', '--before-seq', next[1]!, '--json')).stdout) as AuditEntry[];
      assert.equal(older.length, REFUSALS - 2);
      assert.ok(older.every((e) => e.seq < Number(next[1])));
    });

    it('an export of a filtered range reads back into the same entries: JSON lines and CSV, API and CLI', async () => {
      const from = new Date().toISOString();
      const odd = env.service.admin(ODD_ACTOR);
      await odd.create('exported', { allow: { users: [], groups: [], roles: ['Finance.Reader', 'Legal_Team', 'hr-auditors'] } });
      await assert.rejects(odd.create('exported', {}), /exists already/);
      const to = new Date(Date.now() + 1).toISOString();
      for (const range of [`key=exported&since=${encodeURIComponent(from)}&until=${encodeURIComponent(to)}`, 'key=flooded']) {
        const expected = (await audit(range)).reverse();
        assert.ok(expected.length >= 5, range);
        const jsonl = await asText(as('auditor', api.get(`/admin/api/audit/export?format=jsonl&${range}`))).expect(200);
        assert.equal(jsonl.headers['content-type'], 'application/jsonl; charset=utf-8');
        assert.match(jsonl.headers['content-disposition'] as string, /^attachment; filename="dke-audit-\d{8}T\d{6}Z\.jsonl"$/);
        assert.ok((jsonl.body as string).endsWith('\n'));
        assert.deepEqual((jsonl.body as string).trimEnd().split('\n').map((line) => JSON.parse(line) as AuditEntry), expected, `${range} as JSON lines`);
        const csv = await asText(as('auditor', api.get(`/admin/api/audit/export?format=csv&${range}`))).expect(200);
        assert.equal(csv.headers['content-type'], 'text/csv; charset=utf-8');
        assert.match(csv.headers['content-disposition'] as string, /^attachment; filename="dke-audit-\d{8}T\d{6}Z\.csv"$/);
        assert.deepEqual(entriesFromCsv(csv.body as string), expected, `${range} as CSV`);
        assert.doesNotMatch(csv.body as string, /(^|,)"?[=+\-@]/m, 'no cell starts as a formula');
      }
      const range = ['--key', 'exported', '--since', from, '--until', to];
      const expected = (await audit(`key=exported&since=${encodeURIComponent(from)}&until=${encodeURIComponent(to)}`)).reverse();
      assert.ok(expected.some((e) => e.actor === ODD_ACTOR && e.reason !== undefined));
      const csv = await cli('audit', ...range, '--format', 'csv');
      assert.equal(csv.status, 0, csv.stderr);
      assert.deepEqual(entriesFromCsv(csv.stdout), expected);
      const jsonl = await cli('audit', ...range, '--format', 'jsonl');
      assert.deepEqual(jsonl.stdout.trimEnd().split('\n').map((line) => JSON.parse(line) as AuditEntry), expected);
    });

    it('a create with an allow list records each grant, through the API and dke keys create --allow-user', async () => {
      const group = '0f1e2d3c-4b5a-4968-8776-655443322110';
      await as('admin', api.post('/admin/api/keys').send({ name: 'granted', allow: { users: ['Bob@contoso.dev'], groups: [group], roles: ['Finance.Reader'] } })).expect(201);
      const grants = (await audit('key=granted&action=grant')).reverse();
      assert.deepEqual(
        grants.map((e) => [e.actor, e.outcome, e.details]),
        [
          [ADMIN_ACTOR, 'succeeded', { kind: 'users', value: 'Bob@contoso.dev', changed: true, with: 'create' }],
          [ADMIN_ACTOR, 'succeeded', { kind: 'groups', value: group, changed: true, with: 'create' }],
          [ADMIN_ACTOR, 'succeeded', { kind: 'roles', value: 'Finance.Reader', changed: true, with: 'create' }],
        ],
      );
      const [created] = await audit('key=granted&action=create');
      assert.ok(created!.seq < grants[0]!.seq, 'the grants follow the create they came with');
      const made = await cli('keys', 'create', 'granted-cli', '--allow-user', 'carol@contoso.dev', '--allow-user', 'dave@contoso.dev');
      assert.equal(made.status, 0, made.stderr);
      assert.deepEqual(
        (await audit('key=granted-cli&action=grant')).reverse().map((e) => [e.actor, e.details?.value]),
        [
          ['admin@contoso.dev', 'carol@contoso.dev'],
          ['admin@contoso.dev', 'dave@contoso.dev'],
        ],
      );
    });

    it("a key page visit (and every other read of the console and the admin API) writes no entry; the chain stays intact", async () => {
      const { keyId } = await env.admin.create('visited', {});
      const before = await env.service.audit.verify();
      for (const url of [
        '/admin/api/keys',
        '/admin/api/keys/visited',
        '/admin/api/keys/visited/activity',
        '/admin/api/keys/visited/attestation',
        `/admin/api/keys/visited/versions/${keyId}/impact?to=compromised`,
        '/admin/api/audit?limit=50',
        '/admin/api/audit/verify',
        '/admin/api/audit/export?format=csv&kind=admin',
        '/admin/api/approvals',
        '/admin/api/emergency-block',
        '/admin/api/health',
      ]) {
        await as('auditor', api.get(url)).expect(200);
      }
      const afterReads = await env.service.audit.verify();
      assert.equal(afterReads.ok, true);
      assert.deepEqual(afterReads.head, before.head, 'no entry was written');
    });

    it('refuses a filter it does not know or cannot read, with a sentence', async () => {
      const refused = async (query: string): Promise<unknown> => (await as('auditor', api.get(`/admin/api/audit?${query}`)).expect(400)).body;
      assert.deepEqual(await refused('actors=bob'), {
        error: 'invalid_request',
        message: 'Unknown query parameter "actors"; this route takes "actor", "key", "action", "outcome", "kind", "since", "until", "before", "limit".',
      });
      assert.deepEqual(await refused('outcome=maybe'), { error: 'invalid_request', message: '"outcome" must be allowed, denied, failed, succeeded or refused, not "maybe".' });
      assert.deepEqual(await refused('kind=admin&kind=decrypt'), { error: 'invalid_request', message: '"kind" must be given once.' });
      assert.deepEqual(await refused('before=x'), { error: 'invalid_request', message: '"before" must be a whole number from 1 to 9007199254740991.' });
      assert.deepEqual(await refused('until=soon'), { error: 'refused', message: '"until" takes an ISO time (2026-11-01T00:00:00Z) or a span such as 24h or 30d, not "soon".' });
      const format = await as('auditor', api.get('/admin/api/audit/export?format=xlsx')).expect(400);
      assert.deepEqual(format.body, { error: 'invalid_request', message: '"format" must be jsonl or csv, not "xlsx".' });
      await as('auditor', api.get('/admin/api/audit/export?limit=5')).expect(400);
    });
  });
}

describe('issue 27: dke audit refuses filters it cannot read, before it opens the store', () => {
  const refused = async (...args: string[]): Promise<[number | null, string]> => {
    const result = await runCliAsync(['audit', ...args], process.env);
    return [result.status, result.stderr];
  };

  it('an unknown kind, a contradiction, and paging an export', async () => {
    assert.deepEqual(await refused('--kind', 'everything'), [2, 'dke: --kind must be admin or decrypt, not "everything".\n']);
    assert.deepEqual(await refused('--admin-only', '--kind', 'decrypt'), [2, 'dke: --admin-only and --kind decrypt contradict each other.\n']);
    assert.deepEqual(await refused('--format', 'csv', '--limit', '2'), [2, 'dke: --format exports every matching entry; narrow it with the filters (--since, --until …), not with --limit.\n']);
  });
});
