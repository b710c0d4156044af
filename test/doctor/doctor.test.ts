/**
 * Contract §8 (`dke doctor URL`) and §3, issue 16: the doctor, run as an operator runs it (a `dke` process with
 * NODE_EXTRA_CA_CERTS naming a private CA), against real local deployments of the service: HTTPS with a trusted
 * certificate, plain HTTP, an untrusted and an expired certificate, a port that asks for a client certificate, a
 * service whose audience is not the URL, a wrong-case key name and a path prefix; with good, wrong-audience, expired,
 * foreign-tenant and not-allowed tokens.
 */
import assert from 'node:assert/strict';
import { createServer as createHttpsServer } from 'node:https';
import { readFileSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Server } from 'node:http';
import { after, before, describe, it } from 'mocha';
import { listen } from '../../src/http/server.js';
import { OTHER_TENANT, signed, v1Claims } from '../auth/entra-tokens.js';
import { freePort } from '../support/dev-process.js';
import { runCliAsync } from '../support/run-cli.js';
import { startTestEnv, type TestEnv } from '../support/test-env.js';
import { issueServerCertificate, makeCa, type PemPair } from '../support/test-pki.js';

interface Check {
  name: string;
  status: 'pass' | 'warn' | 'fail';
  detail: string;
  fix: string | null;
}

const USER = 'alice@contoso.dev';
const DAY = 86_400_000;


describe('doctor: dke doctor against real local deployments (issue 16, contract §8)', function () {
  this.timeout(60_000);
  let env: TestEnv;
  let trustedCa: PemPair;
  let keyId: string;
  let audience: string;
  const servers: Server[] = [];
  const ports = { trusted: 0, http: 0, untrusted: 0, expired: 0, otherName: 0, otherAudience: 0, clientCert: 0 };

  /** Runs `dke doctor … --json` in its own process, trusting the test CA through NODE_EXTRA_CA_CERTS. */
  const doctor = async (url: string, ...extra: string[]) => {
    const result = await runCliAsync(['doctor', url, '--json', ...extra], { ...process.env, NODE_EXTRA_CA_CERTS: trustedCa.cert });
    const checks = (JSON.parse(result.stdout) as { checks: Check[] }).checks;
    return { status: result.status, checks, byName: (name: string) => checks.find((c) => c.name === name) };
  };
  const withToken = async (url: string, token: string) => {
    const file = join(env.dir, `token-${Math.random().toString(36).slice(2)}.txt`);
    writeFileSync(file, token, { mode: 0o600 });
    return doctor(url, '--token-file', file);
  };
  const failed = (checks: Check[]) => checks.filter((c) => c.status === 'fail').map((c) => c.name);

  before(async () => {
    ports.trusted = await freePort();
    audience = `https://localhost:${ports.trusted}`;
    env = await startTestEnv({ settings: { DKE_AUTH_AUDIENCE: audience } });
    keyId = (await env.admin.create('demo-key', { allow: { users: [USER], groups: [], roles: [] } })).keyId;
    trustedCa = makeCa(env.dir, 'trusted');
    const strangerCa = makeCa(env.dir, 'stranger');
    const now = Date.now();
    const good = issueServerCertificate(env.dir, trustedCa, 'good', { start: new Date(now - DAY), end: new Date(now + 365 * DAY) });
    const untrusted = issueServerCertificate(env.dir, strangerCa, 'untrusted', { start: new Date(now - DAY), end: new Date(now + 365 * DAY) });
    const expired = issueServerCertificate(env.dir, trustedCa, 'expired', { start: new Date(now - 400 * DAY), end: new Date(now - 35 * DAY) });
    const otherName = issueServerCertificate(env.dir, trustedCa, 'other-name', { start: new Date(now - DAY), end: new Date(now + 365 * DAY) }, 'dke.contoso.com');
    const serve = async (port: number, tls?: PemPair) => {
      const server = await listen(env.service.app, {
        ...env.config,
        port,
        host: '127.0.0.1',
        ...(tls ? { tls: { certFile: tls.cert, keyFile: tls.key } } : {}),
      });
      servers.push(server);
      return (server.address() as AddressInfo).port;
    };
    await serve(ports.trusted, good);
    ports.http = await serve(0);
    ports.untrusted = await serve(0, untrusted);
    ports.expired = await serve(0, expired);
    ports.otherName = await serve(0, otherName);
    ports.otherAudience = await serve(0, good);
    // A TLS front that asks every client for a certificate, as IIS with "Client certificates: Accept" does.
    const asking = createHttpsServer({ cert: readFileSync(good.cert), key: readFileSync(good.key), requestCert: true, rejectUnauthorized: false }, env.service.app);
    await new Promise<void>((resolve) => asking.listen(0, '127.0.0.1', () => resolve()));
    servers.push(asking);
    ports.clientCert = (asking.address() as AddressInfo).port;
  });
  after(async () => {
    for (const server of servers) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    await env?.close();
  });

  it('§8 a sound HTTPS deployment and a good token: every check passes, the decrypt round trip comes back equal, exit 0', async () => {
    const token = await env.issuer.issueToken({ audience, upn: USER });
    const run = await withToken(`https://localhost:${ports.trusted}/demo-key`, token);
    assert.equal(run.status, 0, JSON.stringify(run.checks, null, 1));
    assert.deepEqual(
      run.checks.map((c) => c.name),
      ['dns', 'https', 'tls', 'certificate-trust', 'host-name', 'certificate-expiry', 'client-certificate', 'public-key', 'key-id', 'cache-expiry', 'public-base-url', 'challenge', 'audience', 'authorization-url', 'token-aud', 'token-iss', 'token-scp', 'token-exp', 'token-names', 'decrypt'],
    );
    assert.deepEqual(failed(run.checks), []);
    assert.equal(run.byName('public-key')?.detail, `RSA-2048, e 65537, RS256, version ${keyId}`);
    assert.match(run.byName('key-id')!.detail, new RegExp(`^kid https://localhost:${ports.trusted}/demo-key/${keyId} starts with the URL`));
    assert.equal(run.byName('client-certificate')?.status, 'pass');
    assert.equal(run.byName('decrypt')?.detail, `a value encrypted here with version ${keyId} came back equal for ${USER}`);
    // No DKE_PUBLIC_BASE_URL here: the doctor notices that kid follows the Host header, and says so as a warning.
    assert.equal(run.byName('public-base-url')?.status, 'warn');
    assert.equal(run.byName('public-base-url')?.fix, `Set DKE_PUBLIC_BASE_URL=https://localhost:${ports.trusted} so every kid names the label's URL whatever Host header a proxy sends.`);
    assert.ok(!JSON.stringify(run.checks).includes(token), 'the token never appears in the output');
    for (const check of run.checks) assert.equal(check.fix === null, check.status === 'pass', check.name);
  });

  it('§8 the human output is a short table with the fix under each failure, and a verdict', async () => {
    const result = await runCliAsync(['doctor', `https://localhost:${ports.trusted}/Demo-Key`], { ...process.env, NODE_EXTRA_CA_CERTS: trustedCa.cert });
    assert.equal(result.status, 5);
    const lines = result.stdout.trimEnd().split('\n');
    assert.match(lines[0]!, /^PASS  dns +localhost resolves to /);
    assert.ok(lines.includes(`FAIL  public-key-url      GET https://localhost:${ports.trusted}/Demo-Key answered 404, but https://localhost:${ports.trusted}/demo-key answers the key: key names are case-sensitive and this one is "demo-key"`), result.stdout);
    assert.ok(lines.includes(`                          fix: Put https://localhost:${ports.trusted}/demo-key in the sensitivity label (the key name exactly as dke keys list shows it).`), result.stdout);
    assert.equal(lines.at(-1), '1 check(s) failed, 1 warning(s): Office cannot use this deployment until they are fixed.');
  });

  it('§8 a path prefix the service does not have is named with the URL that works', async () => {
    const run = await doctor(`https://localhost:${ports.trusted}/dke/demo-key`);
    assert.equal(run.status, 5);
    assert.deepEqual(failed(run.checks), ['public-key-url']);
    assert.equal(run.byName('public-key-url')?.detail, `GET https://localhost:${ports.trusted}/dke/demo-key answered 404, but https://localhost:${ports.trusted}/demo-key answers the key (the service is not mounted under /dke)`);
    const unknown = await doctor(`https://localhost:${ports.trusted}/no-such-key`);
    assert.equal(unknown.byName('public-key')?.detail, `GET https://localhost:${ports.trusted}/no-such-key answered 404 (key_not_found), and no other letter case, slash or path prefix answers a key`);
    assert.equal(unknown.status, 5);
  });

  it('§8 plain HTTP fails the https check and skips TLS, but still checks the key', async () => {
    const run = await doctor(`http://localhost:${ports.http}/demo-key`);
    assert.equal(run.status, 5);
    assert.equal(run.byName('https')?.status, 'fail');
    assert.equal(run.byName('https')?.fix, `Serve HTTPS (set DKE_TLS_CERT and DKE_TLS_KEY, or put a TLS proxy in front) and put https://localhost:${ports.http}/demo-key in the label.`);
    assert.equal(run.byName('tls'), undefined);
    assert.equal(run.byName('public-key')?.status, 'pass');
  });

  it('§8 an untrusted certificate fails certificate-trust only (NODE_EXTRA_CA_CERTS trusts another CA)', async () => {
    const run = await doctor(`https://localhost:${ports.untrusted}/demo-key`);
    assert.equal(run.status, 5);
    assert.equal(run.byName('certificate-trust')?.status, 'fail');
    assert.match(run.byName('certificate-trust')!.detail, /^the certificate chain is not trusted \((UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT_LOCALLY)\)$/);
    assert.equal(run.byName('host-name')?.status, 'pass');
    assert.equal(run.byName('certificate-expiry')?.status, 'pass');
  });

  it('§8 an expired certificate fails trust and expiry, with the renewal as fix', async () => {
    const run = await doctor(`https://localhost:${ports.expired}/demo-key`);
    assert.equal(run.status, 5);
    assert.equal(run.byName('certificate-trust')?.detail, 'the certificate chain is not trusted (CERT_HAS_EXPIRED)');
    assert.equal(run.byName('certificate-trust')?.fix, 'Renew the certificate and install it (then SIGHUP dke serve, or restart the TLS proxy).');
    assert.match(run.byName('certificate-expiry')!.detail, /^the certificate expired on \d{4}-\d\d-\d\d$/);
  });

  it('§8 a trusted certificate for another host name fails host-name, naming the names it has', async () => {
    const run = await doctor(`https://localhost:${ports.otherName}/demo-key`);
    assert.equal(run.byName('certificate-trust')?.status, 'pass');
    assert.equal(run.byName('host-name')?.detail, 'the certificate does not name localhost (it names DNS:dke.contoso.com)');
    assert.equal(run.byName('host-name')?.fix, 'Use a certificate whose subject alternative names include localhost.');
  });

  it('§8 a port that asks for a client certificate fails, naming the MSIPC handshake failure', async () => {
    const run = await doctor(`https://localhost:${ports.clientCert}/demo-key`);
    assert.equal(run.byName('client-certificate')?.status, 'fail');
    assert.match(run.byName('client-certificate')!.detail, /asks clients for a certificate/);
  });

  it('§8 a service whose audience is not the URL: the challenge resource is named, with DKE_AUTH_AUDIENCE as the fix', async () => {
    const run = await doctor(`https://localhost:${ports.otherAudience}/demo-key`);
    assert.equal(run.status, 5);
    assert.deepEqual(failed(run.checks), ['audience']);
    assert.equal(
      run.byName('audience')?.detail,
      `the challenge's resource is ${audience}, but the label's URL is on https://localhost:${ports.otherAudience}: Office gets a token for ${audience}, which is not the service the label names`,
    );
    assert.match(run.byName('audience')!.fix!, new RegExp(`^Put https://localhost:${ports.otherAudience} first in DKE_AUTH_AUDIENCE`));
  });

  it('§8 tokens: wrong audience, expired, foreign tenant and not allowed each fail with their own explanation', async () => {
    const url = `https://localhost:${ports.trusted}/demo-key`;
    const now = Math.floor(Date.now() / 1000);
    const wrongAudience = await withToken(url, await env.issuer.issueToken({ audience: 'https://other.example', upn: USER }));
    assert.deepEqual(failed(wrongAudience.checks), ['token-aud', 'decrypt']);
    assert.equal(wrongAudience.byName('token-aud')?.detail, `aud is https://other.example, but the service asks for ${audience}`);
    assert.equal(wrongAudience.byName('decrypt')?.detail, 'the service refused the token (401), for the reasons above');

    const expired = await withToken(url, await signed(env.issuer, v1Claims(env.issuer, { aud: audience, upn: USER, iat: now - 7200, nbf: now - 7200, exp: now - 3600 })));
    assert.deepEqual(failed(expired.checks), ['token-exp', 'decrypt']);
    assert.match(expired.byName('token-exp')!.detail, /^the token expired at .*, beyond the service's default skew of 300 s$/);

    const foreign = await withToken(url, await signed(env.issuer, v1Claims(env.issuer, { aud: audience, upn: USER, iss: env.issuer.v1Issuer(OTHER_TENANT), tid: OTHER_TENANT })));
    assert.deepEqual(failed(foreign.checks), ['decrypt']);
    assert.match(foreign.byName('decrypt')!.detail, new RegExp(`although its aud, scp, lifetime and names hold: tenant ${OTHER_TENANT} \\(issuer https://sts\\.windows\\.net/${OTHER_TENANT}/\\) is not admitted`));
    assert.match(foreign.byName('decrypt')!.fix!, new RegExp(`^Add ${OTHER_TENANT} to DKE_AUTH_TENANT_IDS`));

    const bob = await env.issuer.issueToken({ audience, upn: 'bob@contoso.dev', oid: '0b0b0000-0000-4000-8000-000000000b0b' });
    const notAllowed = await withToken(url, bob);
    assert.deepEqual(failed(notAllowed.checks), ['decrypt']);
    assert.equal(notAllowed.byName('decrypt')?.detail, 'bob@contoso.dev (oid 0b0b0000-0000-4000-8000-000000000b0b) is not on the allow list of demo-key (403)');
    assert.equal(notAllowed.byName('decrypt')?.fix, 'Grant the user: dke keys grant demo-key --user 0b0b0000-0000-4000-8000-000000000b0b (or a group or app role the token carries).');
    assert.equal(notAllowed.status, 5);
  });
});
