/**
 * Contract §3 (`dke dev`) and §8 (`dke doctor`), issue 27: `npm run dev -- --https` (`dke dev --https`) serves HTTPS
 * with a certificate from a development CA it makes in DKE_DATA_DIR/dev-tls, prints the trust step and https:// curl
 * commands, and `dke doctor` run as printed (NODE_EXTRA_CA_CERTS, the printed token file) passes every check, warnings
 * included. It also prints how to get a DKE.Admin token from the development issuer, and that token works on the
 * admin API. The certificate itself is checked as a client sees it: issued by the CA, for localhost, 127.0.0.1 and ::1.
 * It runs with --host 0.0.0.0, as in a container (the default, 127.0.0.1, is held by dev-command.test.ts).
 */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'mocha';
import { Agent, fetch as undiciFetch } from 'undici';
import { ensureDevCertificate } from '../../src/dev/dev-certificate.js';
import { startDev, tcpAnswer, type DevProcess } from '../support/dev-process.js';
import { runCliAsync } from '../support/run-cli.js';

describe('dev: dke dev --https passes every dke doctor check (issue 27)', function () {
  this.timeout(60_000);
  let dev: DevProcess;
  let stdout = '';
  let port: number;

  before(async () => {
    // --host 0.0.0.0 as in a container, where the host reaches the service through a published port.
    dev = await startDev(['--https', '--host', '0.0.0.0']);
    ({ port } = dev);
    stdout = dev.stdout();
  });
  after(async () => await dev?.stop());

  const caFile = () => join(dev.dataDir, 'dev-tls', 'ca.pem');

  it('prints the trust step and https:// curl commands that name the development CA', () => {
    assert.equal(dev.child.exitCode, null, stdout);
    assert.ok(stdout.includes(`  export NODE_EXTRA_CA_CERTS=${caFile()}\n`), stdout);
    assert.ok(stdout.includes(`  curl -s --cacert ${caFile()} https://localhost:${port}/demo-key\n`), stdout);
    assert.match(stdout, new RegExp(`curl -s --cacert \\S+ -X POST https://localhost:${port}/demo-key/[0-9a-f-]{36}/decrypt`));
    assert.doesNotMatch(stdout, /http:\/\//, 'no plain-HTTP URL is printed');
  });

  it('§8 dke doctor, run as printed, passes every check (no warning) and exits 0', async () => {
    const line = /\n {2}NODE_EXTRA_CA_CERTS=(\S+) \S+ \S+ doctor (\S+) --token-file (\S+)\n/.exec(stdout);
    assert.ok(line, stdout);
    const [, ca, url, tokenFile] = line;
    assert.equal(ca, caFile());
    assert.equal(url, `https://localhost:${port}/demo-key`);
    assert.equal(statSync(tokenFile!).mode & 0o777, 0o600, 'the token file is owner-only');
    const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('DKE_')));
    const result = await runCliAsync(['doctor', url!, '--token-file', tokenFile!, '--json'], { ...env, NODE_EXTRA_CA_CERTS: ca });
    const checks = (JSON.parse(result.stdout) as { checks: Array<{ name: string; status: string }> }).checks;
    assert.deepEqual(checks.filter((c) => c.status !== 'pass'), [], result.stdout);
    assert.deepEqual(
      checks.map((c) => c.name),
      ['dns', 'https', 'tls', 'certificate-trust', 'host-name', 'certificate-expiry', 'client-certificate', 'public-key', 'key-id', 'cache-expiry', 'public-base-url', 'challenge', 'audience', 'authorization-url', 'token-aud', 'token-iss', 'token-scp', 'token-exp', 'token-names', 'decrypt'],
    );
    assert.equal(result.status, 0);
  });

  it('prints how to get a DKE.Admin token from the development issuer, and the printed admin API call answers with it', async () => {
    const call = /\n {2}T=\$\(cat (\S+)\)\n {2}curl -s --cacert (\S+) -H "Authorization: Bearer \$T" (\S+)\n/.exec(stdout);
    assert.ok(call, stdout);
    const [, tokenFile, ca, url] = call;
    assert.match(stdout, /Admin API, with a DKE\.Admin token for admin@contoso\.dev from the development issuer/);
    assert.match(url!, /^https:\/\/127\.0\.0\.1:\d+\/admin\/api\/keys$/);
    const dispatcher = new Agent({ connect: { ca: readFileSync(ca!) } });
    const token = readFileSync(tokenFile!, 'utf8').trim();
    const answer = await undiciFetch(url!, { headers: { authorization: `Bearer ${token}` }, dispatcher });
    assert.equal(answer.status, 200);
    assert.deepEqual(((await answer.json()) as Array<{ name: string }>).map((key) => key.name), ['demo-key']);
    const roles = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')).roles;
    assert.deepEqual(roles, ['DKE.Admin']);
    await dispatcher.close();
  });

  it('--host 0.0.0.0 listens on every address (a container publishes it), the admin listener stays on 127.0.0.1', async () => {
    assert.equal(await tcpAnswer('127.0.0.2', port), 'connected');
    const adminPort = Number(/https:\/\/127\.0\.0\.1:(\d+)\/admin\//.exec(stdout)?.[1]);
    assert.equal(await tcpAnswer('127.0.0.1', adminPort), 'connected');
    assert.equal(await tcpAnswer('127.0.0.2', adminPort), 'ECONNREFUSED');
  });

  it('npm run dev -- --https reaches dke dev: the quick start script passes its arguments on', () => {
    assert.equal((JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: Record<string, string> }).scripts.dev, 'bash scripts/dev.sh');
    assert.match(readFileSync('scripts/dev.sh', 'utf8'), /^exec node dist\/cli\.js dev "\$@"$/m);
  });

  it('the certificate: issued by the development CA for localhost, 127.0.0.1 and ::1, kept across starts, renewed near its end', () => {
    const ca = new X509Certificate(readFileSync(caFile()));
    const cert = new X509Certificate(readFileSync(join(dev.dataDir, 'dev-tls', 'cert.pem')));
    assert.ok(cert.verify(ca.publicKey) && cert.checkIssued(ca), 'issued and signed by the CA');
    assert.ok(ca.ca && !cert.ca);
    assert.equal(cert.subjectAltName, 'DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1');
    assert.equal(statSync(join(dev.dataDir, 'dev-tls', 'key.pem')).mode & 0o777, 0o600);
    assert.equal(existsSync(join(dev.dataDir, 'dev-tls', 'ca-key.pem')), false, 'the CA key is not kept: it could sign any name');
    assert.equal(ensureDevCertificate(dev.dataDir).made, false, 'a valid certificate is kept: the trusted CA file stays the same');
    assert.equal(readFileSync(caFile(), 'utf8'), ca.toString());
    // 380 days on, the 397-day certificate has under 45 days left: a new one is made (doctor warns under 30).
    const later = ensureDevCertificate(dev.dataDir, new Date(Date.now() + 380 * 86_400_000));
    assert.equal(later.made, true);
  });
});
