/**
 * Contract §10 (issue 26): `dke --server URL …` sends the admin verbs to the admin API with the operator's own token
 * (src/cli/remote/), signed in with `dke login` through the device code flow of the development issuer (the fake Entra,
 * src/dev/dev-device-flow.ts), the verification step done here over HTTP as a browser would. The same service and
 * store answer the local CLI, so the two modes are compared output for output.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'mocha';
import { remoteKeyAdmin } from '../../src/cli/remote/remote-admin.js';
import { listenOnLoopback, type ListeningServer } from '../support/listening-server.js';
import { CLI_PATH, runCliAsync, type CliResult } from '../support/run-cli.js';
import { startTestEnv, TEST_ADMIN_AUDIENCE, TEST_AUDIENCE, type TestEnv } from '../support/test-env.js';
import { until } from '../support/until.js';

const USER = 'alice@contoso.dev';
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

describe('§10 dke --server: the CLI as a client of the admin API, signed in with a device code', function () {
  this.timeout(20_000);
  let env: TestEnv;
  let listener: ListeningServer;
  let server: string;
  let adminHome: string;
  let approverHome: string;
  let keyId: string;

  /** An operator's shell on another machine: no DKE_ setting (no store, no HSM), only the user's config folder. */
  const remoteEnv = (home: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({
    ...Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('DKE_'))),
    XDG_CONFIG_HOME: home,
    ...extra,
  });
  const remote = (home: string, ...args: string[]): Promise<CliResult> => runCliAsync(['--server', server, ...args], remoteEnv(home));
  const local = (...args: string[]): Promise<CliResult> => runCliAsync(args, { ...env.cliEnv, DKE_ADMIN_ACTOR: 'local@contoso.dev' });
  const cacheFile = (home: string): string => join(home, 'dke', 'tokens.json');
  const cache = (home: string): Record<string, { accessToken: string; refreshToken?: string; expiresAt: number }> => JSON.parse(readFileSync(cacheFile(home), 'utf8'));

  /** `dke login --server`: the test reads the code it prints and signs in on the verification page as `upn`. */
  async function signIn(home: string, upn: string): Promise<CliResult> {
    const child = spawn(process.execPath, [CLI_PATH, 'login', '--server', server], { env: remoteEnv(home), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const closed = new Promise<number | null>((resolve) => child.once('close', resolve));
    await until(() => / and enter the code /.test(stdout) || child.exitCode !== null, 'dke login to print its code', 10_000);
    const [, verification, code] = /open (\S+) and enter the code (\S+)\./.exec(stdout) ?? [];
    assert.ok(verification !== undefined && code !== undefined, `${stdout}${stderr}`);
    const page = await (await fetch(`${verification}?user_code=${code}`)).text();
    assert.match(page, new RegExp(`<button type="submit" name="login_hint" value="${upn}">${upn}</button>`));
    const chosen = await fetch(verification, { method: 'POST', headers: FORM, body: new URLSearchParams({ user_code: code, login_hint: upn }) });
    assert.equal(chosen.status, 200);
    return { status: await closed, stdout, stderr };
  }

  before(async () => {
    env = await startTestEnv({
      settings: { DKE_APPROVALS_REQUIRED: '2' },
      // As `dke dev`: the console's (and so the CLI's) sign-in goes to the development issuer.
      config: (issuer) => ({ consoleSignIn: { clientId: 'dke-cli-test', authority: issuer.authority } }),
    });
    env.issuer.deviceFlow.pollSeconds = 1;
    listener = await listenOnLoopback(env, {}, 'adminApp');
    server = `http://127.0.0.1:${listener.port}`;
    adminHome = mkdtempSync(join(tmpdir(), 'dke-remote-admin-'));
    approverHome = mkdtempSync(join(tmpdir(), 'dke-remote-approver-'));
  });
  after(async () => {
    await listener?.close();
    await env?.close();
    for (const home of [adminHome, approverHome]) if (home !== undefined) rmSync(home, { recursive: true, force: true });
  });

  it('dke login: device code sign-in as admin@contoso.dev; the tokens are cached owner-only and never printed', async () => {
    const result = await signIn(adminHome, 'admin@contoso.dev');
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, new RegExp(`Signed in to ${server} as admin@contoso\\.dev\\. The tokens are cached in ${cacheFile(adminHome)} \\(readable by you alone\\)`));
    assert.equal(statSync(cacheFile(adminHome)).mode & 0o777, 0o600);
    assert.equal(statSync(join(adminHome, 'dke')).mode & 0o777, 0o700);
    const cached = cache(adminHome)[server]!;
    assert.ok(cached.refreshToken !== undefined && cached.accessToken.split('.').length === 3);
    for (const secret of [cached.accessToken, cached.refreshToken]) assert.ok(!result.stdout.includes(secret) && !result.stderr.includes(secret), 'a token was printed');
    assert.equal((await signIn(approverHome, 'approver@contoso.dev')).status, 0);
  });

  it('keys create, show and grant print what the local verbs print, with the same JSON', async () => {
    const created = await remote(adminHome, 'keys', 'create', 'remote-key', '--allow-user', USER, '--json');
    assert.equal(created.status, 0, created.stderr);
    const view = JSON.parse(created.stdout) as { name: string; keyId: string; state: string; enabled: boolean };
    assert.deepEqual([view.name, view.state, view.enabled], ['remote-key', 'active', true]);
    keyId = view.keyId;
    const [remoteShow, localShow] = await Promise.all([remote(adminHome, 'keys', 'show', 'remote-key'), local('keys', 'show', 'remote-key')]);
    assert.equal(remoteShow.status, 0, remoteShow.stderr);
    assert.equal(remoteShow.stdout, localShow.stdout);
    assert.match(remoteShow.stdout, new RegExp(`\\* ${keyId}  Active`));
    const granted = await remote(adminHome, 'keys', 'grant', 'remote-key', '--user', 'bob@contoso.dev', '--user', USER);
    assert.equal(granted.status, 0, granted.stderr);
    assert.equal(granted.stdout, `Granted user bob@contoso.dev on remote-key.\nNothing to change: user ${USER} was already on the allow list of remote-key.\n`);
  });

  it('set-state: the preview without --yes is the local one (exit 3); with --yes the 202 proposal prints as locally; another admin approves', async () => {
    const [remotePreview, localPreview] = await Promise.all([
      remote(adminHome, 'keys', 'set-state', 'remote-key', keyId, 'deactivated'),
      local('keys', 'set-state', 'remote-key', keyId, 'deactivated'),
    ]);
    assert.equal(remotePreview.status, 3, remotePreview.stderr);
    assert.equal(remotePreview.stdout, localPreview.stdout);
    const proposed = await remote(adminHome, 'keys', 'set-state', 'remote-key', keyId, 'deactivated', '--yes');
    assert.equal(proposed.status, 0, proposed.stderr);
    const id = /^Proposal (\S+) \(set-state remote-key /.exec(proposed.stdout)?.[1];
    assert.ok(id, proposed.stdout);
    assert.match(proposed.stdout, /waits for another admin until .*: "dke approvals approve \S+"\. Nothing was changed yet\.\n$/);
    const listed = await remote(approverHome, 'approvals', 'list');
    assert.match(listed.stdout, new RegExp(`${id}  pending  set-state remote-key ${keyId} deactivated  proposed by \\S+ \\(admin@contoso\\.dev\\)`));
    const approved = await remote(approverHome, 'approvals', 'approve', id);
    assert.equal(approved.status, 0, approved.stderr);
    assert.match(approved.stdout, new RegExp(`^Approved: ${id}  approved set-state .* by \\S+ \\(approver@contoso\\.dev\\)`));
    assert.equal((await env.admin.show('remote-key')).versions[0]!.state, 'deactivated');
  });

  it('a refusal exits as locally: 409 (the state table) and 404 (no such key) are exit 2 with the API\'s sentence', async () => {
    // Locally the same step exits 2 too (test/cli/key-state-commands.test.ts).
    const remoteConflict = await remote(adminHome, 'keys', 'set-state', 'remote-key', keyId, 'active', '--yes');
    assert.equal(remoteConflict.status, 2);
    assert.equal(remoteConflict.stderr, 'dke: A version in state Deactivated cannot become Active; allowed from Deactivated: Compromised.\n');
    const [remoteMissing, localMissing] = await Promise.all([remote(adminHome, 'keys', 'show', 'no-such-key'), local('keys', 'show', 'no-such-key')]);
    assert.deepEqual([remoteMissing.status, localMissing.status], [2, 2]);
    assert.equal(remoteMissing.stderr, localMissing.stderr);
  });

  it('emergency block applies at once as the signed-in admin; unblock proposes; the approver lifts it', async () => {
    const blocked = await remote(adminHome, 'emergency', 'block', '--yes');
    assert.equal(blocked.status, 0, blocked.stderr);
    assert.match(blocked.stdout, /^The emergency block is ON since \S+ \(set by \S+ \(admin@contoso\.dev\)\): no key decrypts or is published\./);
    const proposed = await remote(adminHome, 'emergency', 'unblock', '--yes', '--json');
    assert.equal(proposed.status, 0, proposed.stderr);
    const { approval } = JSON.parse(proposed.stdout) as { approval: { id: string; operation: string; status: string } };
    assert.deepEqual([approval.operation, approval.status], ['emergency-unblock', 'pending']);
    assert.equal((await remote(approverHome, 'approvals', 'approve', approval.id)).status, 0);
    assert.deepEqual(env.admin.emergencyBlock(), { blocked: false });
  });

  it('audit: the trail names the signed-in people, never an OS user; filters and verify work through the API', async () => {
    const [remoteAudit, localAudit] = await Promise.all([remote(adminHome, 'audit', '--actor', 'contoso.dev', '--admin-only'), local('audit', '--actor', 'contoso.dev', '--admin-only')]);
    assert.equal(remoteAudit.status, 0, remoteAudit.stderr);
    assert.equal(remoteAudit.stdout, localAudit.stdout);
    // Each line: seq, time, actor ("oid (upn)"), action, key/version, outcome.
    const actions = remoteAudit.stdout.trim().split('\n').map((line) => line.split(' ').slice(3, 5).join(' '));
    for (const expected of ['(admin@contoso.dev) create', '(admin@contoso.dev) grant', '(admin@contoso.dev) emergency-block', '(approver@contoso.dev) emergency-unblock']) {
      assert.ok(actions.includes(expected), `${expected} missing from ${actions.join(', ')}`);
    }
    assert.ok(!/ os:/.test(remoteAudit.stdout), 'an OS user in the trail');
    const verified = await remote(adminHome, 'audit', 'verify');
    assert.equal(verified.status, 0, verified.stderr);
    assert.match(verified.stdout, /^The audit trail is intact: \d+ entries chained/);
  });

  it('in process: the audit export, a page and an attestation through the API are the local reads, entry for entry', async () => {
    const saved = process.env.XDG_CONFIG_HOME;
    process.env.XDG_CONFIG_HOME = adminHome;
    try {
      const admin = remoteKeyAdmin(server);
      const filter = { keyNames: ['remote-key'] };
      const exported = [];
      for await (const entry of admin.auditExport(filter)) exported.push(entry);
      const expected = [];
      for await (const entry of env.admin.auditExport(filter)) expected.push(entry);
      assert.ok(expected.length >= 4);
      assert.deepEqual(exported, JSON.parse(JSON.stringify(expected)));
      assert.deepEqual(await admin.auditPage(filter, { limit: 2 }), JSON.parse(JSON.stringify(await env.admin.auditPage(filter, { limit: 2 }))));
      assert.deepEqual(await admin.attest('remote-key', keyId), JSON.parse(JSON.stringify(await env.admin.attest('remote-key', keyId))));
      await assert.rejects(admin.attest('remote-key', 'no-such-version'), { message: 'The key "remote-key" has no version no-such-version.' });
      await assert.rejects(admin.reconcile(true), { message: "This command has no admin API route: run it on the service's host, without --server (or DKE_ADMIN_URL)." });
      // The stored policy (contract §10) through PUT /admin/api/policy: stricter applies at once, weaker is proposed.
      assert.deepEqual(await admin.policy(), JSON.parse(JSON.stringify(env.admin.policy())));
      assert.deepEqual(await admin.setPolicy({ rotationMinimumMs: 2 * 86_400_000 }), JSON.parse(JSON.stringify(env.admin.policy())));
      assert.equal(env.admin.policy().rotationMinimum, '2d');
      const weaker = await admin.setPolicy({ rotationMinimumMs: 86_400_000 });
      assert.ok('approval' in weaker, 'a weaker policy waits for a second person');
      assert.deepEqual([weaker.approval.operation, weaker.approval.status, env.admin.policy().rotationMinimum], ['set-policy', 'pending', '2d']);
      await env.admin.reject(weaker.approval.id);
    } finally {
      if (saved === undefined) delete process.env.XDG_CONFIG_HOME;
      else process.env.XDG_CONFIG_HOME = saved;
    }
  });

  it('an access token past its end is refreshed with the refresh token (rotated), and so is one the API refuses', async () => {
    const before = cache(adminHome)[server]!;
    writeFileSync(cacheFile(adminHome), JSON.stringify({ [server]: { ...before, accessToken: 'expired', expiresAt: 0 } }), { mode: 0o600 });
    const listed = await remote(adminHome, 'keys', 'list', '--json');
    assert.equal(listed.status, 0, listed.stderr);
    const renewed = cache(adminHome)[server]!;
    assert.notEqual(renewed.accessToken, 'expired');
    assert.notEqual(renewed.refreshToken, before.refreshToken);
    assert.ok(renewed.expiresAt > Date.now());
    // Still within its time by the clock, but refused by the API (401): one refresh, then the call succeeds.
    writeFileSync(cacheFile(adminHome), JSON.stringify({ [server]: { ...renewed, accessToken: 'revoked' } }), { mode: 0o600 });
    assert.equal((await remote(adminHome, 'emergency', 'status')).status, 0);
    assert.notEqual(cache(adminHome)[server]!.accessToken, 'revoked');
    assert.equal(statSync(cacheFile(adminHome)).mode & 0o777, 0o600);
  });

  it('a token for another audience, or without DKE.Admin: exit 2 with a sentence saying what to do', async () => {
    const home = mkdtempSync(join(tmpdir(), 'dke-remote-other-'));
    try {
      const entry = (accessToken: string) => ({ [server]: { accessToken, expiresAt: Date.now() + 3_600_000, tokenUrl: 'http://127.0.0.1:1/token', clientId: 'x', scope: 's' } });
      const decryptToken = await env.issuer.issueToken({ audience: TEST_AUDIENCE, upn: 'admin@contoso.dev', roles: ['DKE.Admin'] });
      mkdirSync(join(home, 'dke'), { mode: 0o700 });
      writeFileSync(cacheFile(home), JSON.stringify(entry(decryptToken)), { mode: 0o600 });
      const wrongAudience = await remote(home, 'keys', 'list');
      assert.equal(wrongAudience.status, 2);
      assert.equal(wrongAudience.stderr, `dke: The admin API at ${server} did not accept your sign-in (invalid_token): run "dke login --server ${server}" (a token for another service or tenant is refused).\n`);
      const auditorToken = await env.issuer.issueToken({ audience: TEST_ADMIN_AUDIENCE, upn: 'auditor@contoso.dev', roles: ['DKE.Auditor'] });
      writeFileSync(cacheFile(home), JSON.stringify(entry(auditorToken)), { mode: 0o600 });
      const noRole = await remote(home, 'keys', 'rotate', 'remote-key');
      assert.equal(noRole.status, 2);
      assert.equal(noRole.stderr, `dke: This needs the app role DKE.Admin. Your sign-in to ${server} lacks it: ask an admin of the tenant to assign you that app role, then run "dke login --server ${server}" again.\n`);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });

  it('dke logout removes the cached tokens; the next call says to sign in (DKE_ADMIN_URL names the server too)', async () => {
    const result = await runCliAsync(['logout'], remoteEnv(approverHome, { DKE_ADMIN_URL: server }));
    assert.equal(result.stdout, `Signed out of ${server}: the cached tokens are removed.\n`);
    assert.equal(existsSync(cacheFile(approverHome)), false);
    const after = await runCliAsync(['approvals', 'list'], remoteEnv(approverHome, { DKE_ADMIN_URL: server }));
    assert.equal(after.status, 2);
    assert.equal(after.stderr, `dke: Not signed in to ${server}: run "dke login --server ${server}" first (a pipeline sets DKE_ADMIN_CLIENT_SECRET_FILE instead).\n`);
  });

  it('the development issuer speaks RFC 8628: authorization_pending, slow_down, expired_token; refresh tokens are used once', async () => {
    const flow = env.issuer.deviceFlow;
    const token = (form: Record<string, string>) => fetch(`${env.issuer.authority}/oauth2/v2.0/token`, { method: 'POST', headers: FORM, body: new URLSearchParams(form) }).then(async (r) => ({ status: r.status, body: (await r.json()) as Record<string, string> }));
    const metadata = (await (await fetch(env.issuer.metadataUrl)).json()) as Record<string, string>;
    assert.equal(metadata.device_authorization_endpoint, flow.deviceAuthorizationUrl);
    const start = async () => (await (await fetch(flow.deviceAuthorizationUrl, { method: 'POST', headers: FORM, body: new URLSearchParams({ client_id: 'c', scope: `${TEST_ADMIN_AUDIENCE}/.default offline_access` }) })).json()) as Record<string, string>;
    const device = await start();
    assert.match(device.user_code!, /^[A-Z0-9]{4}-[A-Z0-9]{4}$/);
    const poll = { grant_type: 'urn:ietf:params:oauth:grant-type:device_code', client_id: 'c', device_code: device.device_code! };
    assert.deepEqual((await token(poll)).body, { error: 'authorization_pending' });
    assert.deepEqual((await token(poll)).body, { error: 'slow_down' }, 'polled again at once');
    flow.codeLifetimeSeconds = 0;
    try {
      assert.deepEqual((await token({ ...poll, device_code: (await start()).device_code! })).body, { error: 'expired_token' });
    } finally {
      flow.codeLifetimeSeconds = 900;
    }
    const refreshToken = cache(adminHome)[server]!.refreshToken!;
    const refreshed = await token({ grant_type: 'refresh_token', client_id: 'dke-cli-test', refresh_token: refreshToken });
    assert.equal(refreshed.status, 200);
    assert.equal((await token({ grant_type: 'refresh_token', client_id: 'dke-cli-test', refresh_token: refreshToken })).body.error, 'invalid_grant');
  });
});
