/**
 * Contract §2 `DKE_TLS_CERT`, `DKE_TLS_KEY` (src/http/server.ts, issue 7): HTTPS with TLS 1.2 or newer straight from
 * the two PEM files.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { request } from 'node:https';
import { after, before, describe, it } from 'mocha';
import { reloadTls } from '../../src/http/server.js';
import { listenOnLoopback, type ListeningServer } from '../support/listening-server.js';
import { handshake, makeCertificate } from '../support/tls-client.js';
import { startTestEnv, type TestEnv } from '../support/test-env.js';

describe('issue 7: HTTPS straight from DKE_TLS_CERT and DKE_TLS_KEY', () => {
  let env: TestEnv;
  let listening: ListeningServer;
  let port: number;
  let second: { cert: string; key: string };

  before(async () => {
    env = await startTestEnv();
    const first = makeCertificate(env.dir, 'first', 'dke-first.test');
    second = makeCertificate(env.dir, 'second', 'dke-second.test');
    listening = await listenOnLoopback(env, { tls: { certFile: first.cert, keyFile: first.key } });
    port = listening.port;
  });
  after(async () => {
    await listening?.close();
    await env?.close();
  });

  it('serves the API over TLS 1.3 and 1.2', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      request({ host: '127.0.0.1', port, path: '/health/live', rejectUnauthorized: false }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      })
        .on('error', reject)
        .end();
    });
    assert.equal(status, 200);
    assert.deepEqual(await handshake(port, {}), { protocol: 'TLSv1.3', subject: 'CN=dke-first.test' });
    assert.deepEqual(await handshake(port, { maxVersion: 'TLSv1.2' }), { protocol: 'TLSv1.2', subject: 'CN=dke-first.test' });
  });

  it('refuses TLS 1.1 and 1.0 with a protocol_version alert', async () => {
    // The client lowers its own OpenSSL security level so that it really offers TLS 1.0/1.1 (Node's default level
    // would refuse them itself): the refusal must come from the server's minimum version, alert 70.
    for (const version of ['TLSv1.1', 'TLSv1'] as const) {
      const result = await handshake(port, { minVersion: 'TLSv1', maxVersion: version, ciphers: 'DEFAULT@SECLEVEL=0' });
      assert.ok('error' in result, `a ${version} handshake must fail, got ${JSON.stringify(result)}`);
      assert.match(result.error, /protocol version/, version);
    }
  });

  it('serves a renewed certificate to new connections after a reload (what SIGHUP does)', async () => {
    reloadTls(listening.server, { ...env.config, tls: { certFile: second.cert, keyFile: second.key } });
    assert.deepEqual(await handshake(port, {}), { protocol: 'TLSv1.3', subject: 'CN=dke-second.test' });
    const old = await handshake(port, { minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' });
    assert.ok('error' in old && /protocol version/.test(old.error), 'the reloaded context keeps TLS 1.2 as the minimum');
    assert.throws(() => reloadTls(listening.server, { ...env.config, tls: { certFile: join(env.dir, 'missing.pem'), keyFile: second.key } }));
    assert.deepEqual(await handshake(port, {}), { protocol: 'TLSv1.3', subject: 'CN=dke-second.test' }, 'a failed reload keeps the current certificate');
  });
});
