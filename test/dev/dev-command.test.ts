/**
 * Contract §2 (DKE_AUTH_AUDIENCE, DKE_AUTH_TENANT_IDS), §3 (`dke dev`) and §8, issue 16: `dke dev` sets the
 * authentication settings for its own issuer, so it starts although the service refuses to start without them, and
 * `dke doctor` run on its URL with the token it prints passes every check but HTTPS (the quick start is plain HTTP);
 * §7: it starts the admin listener and prints the console's URL, whose sign-in goes to its development issuer.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'mocha';
import { startDev, tcpAnswer, type DevProcess } from '../support/dev-process.js';
import { runCliAsync } from '../support/run-cli.js';

describe('dev: dke dev configures authentication for its issuer (issue 16)', function () {
  this.timeout(60_000);
  let dev: DevProcess;
  let stdout = '';
  let port: number;

  before(async () => {
    // Nothing about authentication in the environment: dke dev must set it all (and it serves the console).
    dev = await startDev([]);
    ({ port } = dev);
    stdout = dev.stdout();
  });
  after(async () => await dev?.stop());

  it('§2 starts, and its 401 names its own audience', async () => {
    assert.equal(dev.child.exitCode, null, stdout);
    const kid = /curl -s -X POST (\S+)\/decrypt/.exec(stdout)?.[1];
    assert.ok(kid?.startsWith(`http://localhost:${port}/demo-key/`), stdout);
    const answer = await fetch(`${kid}/decrypt`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    assert.equal(answer.status, 401);
    assert.equal(answer.headers.get('resource'), `http://localhost:${port}`);
  });

  it('listens on 127.0.0.1 only, as its default: another loopback address is refused', async () => {
    assert.equal(await tcpAnswer('127.0.0.1', port), 'connected');
    assert.equal(await tcpAnswer('127.0.0.2', port), 'ECONNREFUSED');
  });

  it('§7 starts the admin listener and prints the console URL, which serves the console signing in at its issuer', async () => {
    const url = /Console \(sign in as admin@contoso\.dev \(DKE\.Admin\), approver@contoso\.dev \(DKE\.Admin\), auditor@contoso\.dev \(DKE\.Auditor\)\):\n {2}(\S+)/.exec(stdout)?.[1];
    // DKE_ADMIN_PORT=0 here (any free port) so that the test cannot collide; unset, `dke dev` takes DKE_PORT + 1.
    assert.match(url ?? '', /^http:\/\/127\.0\.0\.1:\d+\/admin\/$/, stdout);
    const page = await fetch(url!);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<title>dke-service console<\/title>/);
    const settings = (await (await fetch(`${url}config.json`)).json()) as { clientId: string; authorizeUrl: string; scope: string };
    assert.equal(settings.clientId, 'dke-dev-console');
    // Issue 26: the console asks for the admin API's own audience, never the DKE URL its decrypt tokens carry.
    assert.equal(settings.scope, 'api://dke-dev-admin/.default');
    const signInPage = await fetch(`${settings.authorizeUrl}?client_id=dke-dev-console&response_type=code&redirect_uri=${encodeURIComponent(url!)}&code_challenge=${'A'.repeat(43)}&code_challenge_method=S256&state=s`);
    assert.equal(signInPage.status, 200);
    assert.match(await signInPage.text(), /<button type="submit" name="login_hint" value="admin@contoso.dev">admin@contoso.dev<\/button>/);
  });

  it('§8 dke doctor with the printed token: every check passes but HTTPS, and the decrypt comes back equal', async () => {
    const token = /Bearer ([A-Za-z0-9._-]+)'/.exec(stdout)?.[1];
    assert.ok(token, stdout);
    const result = await runCliAsync(['doctor', `http://localhost:${port}/demo-key`, '--token', token, '--json'], process.env);
    const checks = (JSON.parse(result.stdout) as { checks: Array<{ name: string; status: string }> }).checks;
    assert.deepEqual(checks.filter((c) => c.status === 'fail').map((c) => c.name), ['https']);
    assert.equal(checks.find((c) => c.name === 'decrypt')?.status, 'pass');
    assert.equal(result.status, 5);
  });

  it('§10 prints how to sign in the CLI as each development user, and a pipeline credential that works with dke --server', async () => {
    const server = / login --server (\S+)/.exec(stdout)?.[1];
    assert.match(server ?? '', /^http:\/\/127\.0\.0\.1:\d+$/, stdout);
    assert.match(stdout, /pick admin@contoso\.dev, approver@contoso\.dev, auditor@contoso\.dev \(each a button\)/);
    const [, clientId, secretFile] = /DKE_ADMIN_CLIENT_ID=(\S+) DKE_ADMIN_CLIENT_SECRET_FILE=(\S+) /.exec(stdout) ?? [];
    assert.ok(clientId !== undefined && secretFile !== undefined, stdout);
    const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('DKE_')));
    const listed = await runCliAsync(['--server', server!, 'keys', 'list', '--json'], { ...env, DKE_ADMIN_CLIENT_ID: clientId, DKE_ADMIN_CLIENT_SECRET_FILE: secretFile });
    assert.equal(listed.status, 0, listed.stderr);
    assert.deepEqual((JSON.parse(listed.stdout) as Array<{ name: string }>).map((key) => key.name), ['demo-key']);
  });
});
