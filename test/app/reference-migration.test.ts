/**
 * Contract §3 `dke import-reference` (src/app/reference-migration.ts, issue 8): every key of Microsoft's reference
 * service moves into the token under its unchanged name and id, checked before anything changes, and audited.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'mocha';
import { GUEST_NOTE } from '../../src/app/reference-migration.js';
import { parseReferenceSettings } from '../../src/app/reference-settings.js';
import { AdminRefused } from '../../src/keys/errors.js';
import { decryptAs } from '../support/decrypt-client.js';
import { runCli } from '../support/run-cli.js';
import { TEST_AUDIENCE, startTestEnv, type TestEnv } from '../support/test-env.js';
import { rsaPem, tokenObjectsOf } from '../support/key-material.js';

const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';

/** The body of a PEM without its BEGIN/END lines, as the reference's appsettings.json keeps keys. */
const bare = (pem: string) => pem.split('\n').filter((l) => l !== '' && !l.startsWith('-----')).join('');

function referenceKey() {
  const key = rsaPem(2048, 65537, 'pkcs1');
  const jwk = key.publicKey.export({ format: 'jwk' });
  return {
    privatePem: bare(key.pem),
    publicPem: bare(key.publicKey.export({ type: 'spki', format: 'pem' }).toString()),
    jwk: { n: Buffer.from(jwk.n!, 'base64url').toString('base64'), e: 65537 },
  };
}

describe('issue 8: moving from the reference service (dke import-reference)', () => {
  let env: TestEnv;
  const keys = [referenceKey(), referenceKey(), referenceKey()];
  const appsettings = {
    AzureAd: { Instance: 'https://login.microsoftonline.com/', TokenValidationParameters: { ValidIssuers: [`https://sts.windows.net/${TENANT}/`] } },
    JwtAudience: 'https://dke.contoso.com',
    JwtAuthorization: 'https://login.windows.net/common/oauth2/authorize',
    TestKeys: [
      { Name: 'Finance', Id: 'f-current', AuthorizedEmailAddress: ['Alice@Contoso.com'], PublicPem: keys[0]!.publicPem, PrivatePem: keys[0]!.privatePem, CacheExpirationInDays: 1 },
      { Name: 'Finance', Id: 'f-rolled', AuthorizedEmailAddress: ['alice@contoso.com'], PublicPem: keys[1]!.publicPem, PrivatePem: keys[1]!.privatePem, CacheExpirationInDays: 1 },
      { Name: 'Legal', Id: '2BE4E378-1317-4D64-AC44-D75f638F7B29', AuthorizedRoles: ['CN=Legal,OU=Groups,DC=contoso,DC=com'], PublicPem: keys[2]!.publicPem, PrivatePem: keys[2]!.privatePem, CacheExpirationInDays: 1 },
    ],
  };
  const text = `// exported from the reference service\n${JSON.stringify(appsettings, null, 2)}`;
  /** The migration itself; a run after the first changes nothing, so a test can make sure it has happened. */
  const migrate = () => env.admin.migrateReference(parseReferenceSettings(text), false);

  before(async () => {
    // The reference's JwtAudience is the label URL, so its host is one this service answers for (issue 18: 421 otherwise).
    env = await startTestEnv({ settings: { DKE_AUTH_AUDIENCE: `${TEST_AUDIENCE},https://dke.contoso.com` } });
  });
  after(() => env?.close());

  it('a dry run reports every entry and changes nothing', async () => {
    const report = await env.admin.migrateReference(parseReferenceSettings(text), true);
    assert.deepEqual(report.steps.map((s) => [s.name, s.keyId, s.action, s.published]), [
      ['Finance', 'f-current', 'import', true],
      ['Finance', 'f-rolled', 'import', false],
      ['Legal', '2BE4E378-1317-4D64-AC44-D75f638F7B29', 'import', true],
    ]);
    assert.equal(env.service.store.listKeys().length, 0);
    assert.equal(await tokenObjectsOf(env, 'Finance'), 0);
  });

  it('migrates every entry under its Name and Id: every old kid decrypts, the first entry of a name is served', async () => {
    const report = await env.admin.migrateReference(parseReferenceSettings(text), false);
    assert.deepEqual(report.settings, {
      DKE_AUTH_AUDIENCE: 'https://dke.contoso.com',
      DKE_AUTH_TENANT_IDS: TENANT,
      DKE_PUBLIC_KEY_CACHE_HOURS: '24',
    });
    assert.ok(report.notes.includes(GUEST_NOTE), 'issue 18: the address lists are kept as UPN entries, with the warning that guests need oids');
    assert.match(GUEST_NOTE, /Guests .* grant each their object id \(dke keys grant NAME --user <oid>\)/);
    assert.match(report.notes.join(' '), /AuthorizedRoles of Legal\/2BE4E378-1317-4D64-AC44-D75f638F7B29 were NOT migrated.*--group <objectId>/);
    const grants = (await env.service.audit.list()).filter((e) => e.action === 'grant' && e.keyName === 'Finance');
    assert.deepEqual(
      grants.map((e) => [e.actor, e.outcome, e.details?.kind, e.details?.value]),
      [
        ['test', 'succeeded', 'users', 'alice@contoso.com'],
        ['test', 'succeeded', 'users', 'alice@contoso.com'],
      ],
      'issue 12: the grants of a migration are audited like any other (one per TestKeys entry)',
    );
    const summary = (await env.service.audit.list()).filter((e) => e.action === 'import-reference').at(-1);
    assert.deepEqual(summary?.details, { dryRun: false, imported: 3, unchanged: 0 });
    const served = await env.http.get('/Finance').set('Host', 'dke.contoso.com').expect(200);
    assert.equal(served.body.key.kid, 'http://dke.contoso.com/Finance/f-current');
    assert.equal(served.body.key.n, keys[0]!.jwk.n);
    for (const [name, id, key] of [
      ['Finance', 'f-current', keys[0]!],
      ['Finance', 'f-rolled', keys[1]!],
    ] as const) {
      const res = await decryptAs(env, 'alice@contoso.com', name, id, Buffer.from(`old document ${id}`), key.jwk);
      assert.equal(res.status, 200, id);
      assert.equal(Buffer.from(res.body.value, 'base64').toString(), `old document ${id}`);
    }
    const legal = await decryptAs(env, 'alice@contoso.com', 'Legal', '2BE4E378-1317-4D64-AC44-D75f638F7B29', Buffer.from('x'), keys[2]!.jwk);
    assert.equal(legal.status, 403, 'roles were not migrated: nobody is allowed yet');
    assert.deepEqual((await env.admin.show('Finance')).allow.users, ['alice@contoso.com']);
  });

  it('a second run changes nothing and says so', async () => {
    // The first run here, so that the test holds when run alone or in any order.
    await migrate();
    const before = JSON.stringify(env.service.store.listKeys());
    const objects = await tokenObjectsOf(env, 'Finance');
    const report = await migrate();
    assert.deepEqual(report.steps.map((s) => s.action), ['unchanged', 'unchanged', 'unchanged']);
    assert.equal(JSON.stringify(env.service.store.listKeys()), before);
    assert.equal(await tokenObjectsOf(env, 'Finance'), objects);
  });

  it('refuses, before changing anything, a mismatched PublicPem and a name/id that holds a different key', async () => {
    // f-rolled must already hold its key for the second refusal, so that the test holds when run alone or in any order.
    await migrate();
    const mismatched = structuredClone(appsettings);
    mismatched.TestKeys[0]!.Name = 'Other';
    mismatched.TestKeys[0]!.PublicPem = keys[1]!.publicPem;
    await assert.rejects(env.admin.migrateReference(parseReferenceSettings(JSON.stringify(mismatched)), false), /PublicPem is not the public half of PrivatePem; nothing was imported/);
    assert.equal(env.service.store.findKey('Other'), undefined);
    const different = structuredClone(appsettings);
    different.TestKeys[1]!.PrivatePem = referenceKey().privatePem;
    delete (different.TestKeys[1] as { PublicPem?: string }).PublicPem;
    await assert.rejects(env.admin.migrateReference(parseReferenceSettings(JSON.stringify(different)), false), (e: unknown) => e instanceof AdminRefused && /already holds a DIFFERENT key/.test(e.message));
  });

  it('runs through the real CLI: import-reference --dry-run --json and keys import --pkcs8', async () => {
    // Migrated first, so that the dry run reports 'unchanged' when the test runs alone or in any order.
    await migrate();
    const file = join(env.dir, 'appsettings.json');
    writeFileSync(file, text);
    const dry = runCli(['import-reference', file, '--dry-run', '--json'], env.cliEnv);
    assert.equal(dry.status, 0, dry.stderr);
    assert.deepEqual(JSON.parse(dry.stdout).steps.map((s: { action: string }) => s.action), ['unchanged', 'unchanged', 'unchanged']);
    const pemFile = join(env.dir, 'byok.pem');
    writeFileSync(pemFile, rsaPem().pem, { mode: 0o600 });
    const imported = runCli(['keys', 'import', 'cli-byok', '--pkcs8', pemFile, '--key-id', 'kept-id', '--allow-user', 'alice@contoso.com', '--json'], env.cliEnv);
    assert.equal(imported.status, 0, imported.stderr);
    assert.deepEqual(JSON.parse(imported.stdout), { name: 'cli-byok', keyId: 'kept-id', state: 'active', enabled: true });
    const publicFile = join(env.dir, 'public.pem');
    writeFileSync(publicFile, rsaPem().publicKey.export({ type: 'spki', format: 'pem' }).toString());
    const refused = runCli(['keys', 'import', 'cli-pub', '--pkcs8', publicFile], env.cliEnv);
    assert.equal(refused.status, 2);
    assert.match(refused.stderr, /holds a public key or certificate; import needs the private key/);
  });
});
