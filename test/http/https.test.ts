import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { join } from 'node:path';
import { request } from 'node:https';
import { connect } from 'node:tls';
import { after, before, describe, it } from 'mocha';
import { reloadTls } from '../../src/http/server.js';
import { listenOnLoopback, type ListeningServer } from '../support/listening-server.js';
import { startTestEnv, type TestEnv } from '../support/test-env.js';

function makeCertificate(dir: string, name: string, commonName: string): { cert: string; key: string } {
  const cert = join(dir, `${name}-cert.pem`);
  const key = join(dir, `${name}-key.pem`);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-sha256', '-days', '1', '-nodes', '-keyout', key, '-out', cert, '-subj', `/CN=${commonName}`], { stdio: 'ignore' });
  return { cert, key };
}

/** The certificate a fresh TLS connection is served, and the protocol agreed (or the handshake error). */
function handshake(port: number, options: { minVersion?: 'TLSv1' | 'TLSv1.1' | 'TLSv1.2'; maxVersion?: 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3' }): Promise<{ protocol: string | null; subject: string } | { error: string }> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port, rejectUnauthorized: false, ...options }, () => {
      const peer = socket.getPeerX509Certificate();
      resolve({ protocol: socket.getProtocol(), subject: peer ? new X509Certificate(peer.raw).subject : '' });
      socket.end();
    });
    socket.on('error', (error) => resolve({ error: error.message }));
  });
}

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

  it('refuses TLS 1.1 and older', async () => {
    const result = await handshake(port, { minVersion: 'TLSv1', maxVersion: 'TLSv1.1' });
    assert.ok('error' in result, `a TLS 1.1 handshake must fail, got ${JSON.stringify(result)}`);
  });

  it('serves a renewed certificate to new connections after a reload (what SIGHUP does)', async () => {
    reloadTls(listening.server, { ...env.config, tls: { certFile: second.cert, keyFile: second.key } });
    assert.deepEqual(await handshake(port, {}), { protocol: 'TLSv1.3', subject: 'CN=dke-second.test' });
    assert.throws(() => reloadTls(listening.server, { ...env.config, tls: { certFile: join(env.dir, 'missing.pem'), keyFile: second.key } }));
    assert.deepEqual(await handshake(port, {}), { protocol: 'TLSv1.3', subject: 'CN=dke-second.test' }, 'a failed reload keeps the current certificate');
  });
});
