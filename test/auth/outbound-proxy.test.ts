/**
 * Contract §2 (HTTPS_PROXY, HTTP_PROXY, NO_PROXY), issue 16: the OpenID metadata and signing keys are fetched through
 * the configured outbound proxy (plain forwarding for http, CONNECT for https), and readiness names the proxy,
 * without its credentials, when the fetch fails.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:https';
import { connect, type AddressInfo } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'mocha';
import { proxyFor } from '../../src/auth/outbound-proxy.js';
import { startForwardProxy, type ForwardProxy } from '../support/forward-proxy.js';
import { CLI_PATH } from '../support/run-cli.js';
import { startServeProcess } from '../support/serve-process.js';
import { startTestEnv } from '../support/test-env.js';
import { issueServerCertificate, makeCa } from '../support/test-pki.js';
import { makeCertificate } from '../support/tls-client.js';

describe('auth/outbound-proxy: metadata and signing keys through HTTPS_PROXY / HTTP_PROXY (issue 16)', () => {
  let proxy: ForwardProxy;
  before(async () => {
    proxy = await startForwardProxy();
  });
  after(() => proxy.stop());

  it('§2 HTTP_PROXY: the metadata and the JWKS go through the proxy, and tokens verify with the keys it carried', async function () {
    this.timeout(20_000);
    const env = await startTestEnv({ settings: { HTTP_PROXY: proxy.url } });
    try {
      const base = env.issuer.metadataUrl.replace(/\/[^/]+\/v2\.0\/.*$/, '');
      assert.deepEqual(proxy.forwarded, [`GET ${env.issuer.metadataUrl}`, `GET ${base}/discovery/v2.0/keys`]);
      assert.equal(env.service.readiness.report.checks.issuerKeys?.status, 'pass');
      const { keyId } = await env.admin.create('proxied', { allow: { users: ['alice@contoso.dev'], groups: [], roles: [] } });
      const answer = await env.http.post(`/proxied/${keyId}/decrypt`).set('Authorization', `Bearer ${await env.token()}`).type('json').send({ alg: 'RSA-OAEP-256', value: 'AAAA' });
      assert.equal(answer.status, 400, 'authenticated (a 400 for the short value, not a 401)');
    } finally {
      await env.close();
      proxy.forwarded.length = 0;
    }
  });

  describe('an https issuer', () => {
    let tlsServer: Server;
    let metadataUrl: string;
    before(async () => {
      const dir = mkdtempSync(join(tmpdir(), 'dke-proxy-'));
      const { cert, key } = makeCertificate(dir, 'issuer', 'issuer.test');
      tlsServer = createServer({ cert: readFileSync(cert), key: readFileSync(key) }, (_req, res) => res.end('{}'));
      await new Promise<void>((resolve) => tlsServer.listen(0, '127.0.0.1', () => resolve()));
      metadataUrl = `https://127.0.0.1:${(tlsServer.address() as AddressInfo).port}/tenant/v2.0/.well-known/openid-configuration`;
    });
    after(() => new Promise<void>((resolve) => tlsServer.close(() => resolve())));

    it('§2 HTTPS_PROXY: CONNECT to the issuer host, and readiness names the proxy without its credentials', async function () {
      this.timeout(20_000);
      const authority = new URL(metadataUrl).host;
      const withCredentials = proxy.url.replace('http://', 'http://egress:s3cret-pass@');
      const env = await startTestEnv({ settings: { DKE_AUTH_METADATA_URL: metadataUrl, HTTPS_PROXY: withCredentials } });
      try {
        assert.deepEqual(proxy.tunnels, [authority]);
        assert.deepEqual(proxy.authorizations, [`Basic ${Buffer.from('egress:s3cret-pass').toString('base64')}`]);
        const check = env.service.readiness.report.checks.issuerKeys;
        assert.equal(check?.status, 'fail');
        // The issuer's certificate is self-signed: the tunnel worked, TLS through it refused the certificate.
        assert.match(check?.detail ?? '', new RegExp(`the metadata endpoint could not be reached through the proxy ${proxy.url.replace(/\./g, '\\.')} \\(HTTPS_PROXY\\)`));
        assert.ok(!JSON.stringify(env.service.readiness.report).includes('s3cret'), 'no proxy password in readiness');
        assert.ok(!env.logs.join('\n').includes('s3cret'), 'no proxy password in the log');
      } finally {
        await env.close();
        proxy.tunnels.length = 0;
      }
    });

    it('§2 NO_PROXY: a listed host is reached directly, and readiness names no proxy', async function () {
      this.timeout(20_000);
      const env = await startTestEnv({ settings: { DKE_AUTH_METADATA_URL: metadataUrl, HTTPS_PROXY: proxy.url, NO_PROXY: 'localhost,127.0.0.1' } });
      try {
        assert.deepEqual(proxy.tunnels, []);
        const check = env.service.readiness.report.checks.issuerKeys;
        assert.equal(check?.status, 'fail');
        assert.doesNotMatch(check?.detail ?? '', /proxy/);
      } finally {
        await env.close();
      }
    });
  });

  it('§2 HTTPS_PROXY end to end: dke serve trusts the issuer through NODE_EXTRA_CA_CERTS, loads its keys through a CONNECT tunnel, and decrypts', async function () {
    this.timeout(40_000);
    const env = await startTestEnv();
    // The loopback issuer behind TLS, as Entra's metadata host is: a TLS front that hands each connection to it.
    const ca = makeCa(env.dir, 'issuer');
    const now = Date.now();
    const cert = issueServerCertificate(env.dir, ca, 'issuer', { start: new Date(now - 86_400_000), end: new Date(now + 86_400_000) });
    const issuerPort = Number(new URL(env.issuer.metadataUrl).port);
    const front = createTlsServer({ cert: readFileSync(cert.cert), key: readFileSync(cert.key) }, (socket) => {
      const upstream = connect(issuerPort, '127.0.0.1');
      socket.pipe(upstream).pipe(socket);
      upstream.on('error', () => socket.destroy());
      socket.on('error', () => upstream.destroy());
    });
    await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', () => resolve()));
    const frontPort = (front.address() as AddressInfo).port;
    const metadataUrl = env.issuer.metadataUrl.replace(`http://127.0.0.1:${issuerPort}`, `https://localhost:${frontPort}`);
    const serve = await startServeProcess([CLI_PATH, 'serve'], {
      ...env.cliEnv,
      DKE_PORT: '0',
      DKE_HOST: '127.0.0.1',
      DKE_LOG_LEVEL: 'info',
      DKE_AUTH_METADATA_URL: metadataUrl,
      HTTPS_PROXY: proxy.url,
      NODE_EXTRA_CA_CERTS: ca.cert,
    });
    try {
      // The metadata came through the tunnel; its jwks_uri is plain http and HTTP_PROXY is unset, so that went direct.
      assert.deepEqual(proxy.tunnels, [`localhost:${frontPort}`]);
      const ready = (await (await fetch(`${serve.url.replace('localhost', '127.0.0.1')}/health/ready`)).json()) as { checks: Record<string, { status: string }> };
      assert.equal(ready.checks.issuerKeys?.status, 'pass');
      const { keyId } = await env.admin.create('tunnelled', { allow: { users: ['alice@contoso.dev'], groups: [], roles: [] } });
      const answer = await fetch(`${serve.url.replace('localhost', '127.0.0.1')}/tunnelled/${keyId}/decrypt`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${await env.token({ upn: 'alice@contoso.dev' })}` },
        body: JSON.stringify({ alg: 'RSA-OAEP-256', value: 'AAAA' }),
      });
      assert.equal(answer.status, 400, 'authenticated with the keys fetched through the tunnel (a 400 for the short value, not a 401)');
    } finally {
      await serve.stop();
      front.close();
      await env.close();
      proxy.tunnels.length = 0;
    }
  });

  it('§2 the proxy chosen for a URL follows NO_PROXY as curl does (host, .suffix, host:port, *)', () => {
    const config = { httpsProxy: 'http://p:1', httpProxy: 'http://q:2', noProxy: '.corp.example, db:5432' };
    assert.equal(proxyFor('https://login.microsoftonline.com/x', config)?.variable, 'HTTPS_PROXY');
    assert.equal(proxyFor('http://login.microsoftonline.com/x', config)?.variable, 'HTTP_PROXY');
    assert.equal(proxyFor('https://sts.corp.example/x', config), undefined);
    assert.equal(proxyFor('https://corp.example/x', config), undefined);
    assert.equal(proxyFor('http://db:5432/', config), undefined);
    assert.equal(proxyFor('http://db:80/', config)?.variable, 'HTTP_PROXY');
    assert.equal(proxyFor('https://anything/', { httpsProxy: 'http://p:1', noProxy: '*' }), undefined);
    assert.equal(proxyFor('https://anything/', { httpProxy: 'http://q:2' })?.variable, 'HTTP_PROXY');
  });
});
