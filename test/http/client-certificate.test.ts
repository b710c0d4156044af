/**
 * Contract §1 and §2 (DKE_TLS_CERT, DKE_TLS_KEY), issue 16: the service never asks a client for a certificate on the
 * DKE port (Office builds that use MSIPC fail a handshake that carries a CertificateRequest). The probe records the
 * handshake with OpenSSL's trace, which shows the request even inside TLS 1.3's encrypted handshake.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'mocha';
import { probeClientCertificateRequest } from '../../src/doctor/client-certificate-probe.js';
import { listen } from '../../src/http/server.js';
import { startTestEnv, type TestEnv } from '../support/test-env.js';
import { makeCertificate } from '../support/tls-client.js';

describe('http/server: no client certificate is ever requested on the DKE port (issue 16)', function () {
  this.timeout(30_000);
  let env: TestEnv;
  let service: Server;
  let asking: Server;

  before(async () => {
    env = await startTestEnv();
    const { cert, key } = makeCertificate(env.dir, 'dke', 'localhost');
    service = await listen(env.service.app, { ...env.config, port: 0, host: '127.0.0.1', tls: { certFile: cert, keyFile: key } });
    // The control: a server configured as IIS with "Client certificates: Accept" would be.
    asking = createServer({ cert: readFileSync(cert), key: readFileSync(key), requestCert: true, rejectUnauthorized: false }, env.service.app);
    await new Promise<void>((resolve) => asking.listen(0, '127.0.0.1', () => resolve()));
  });
  after(async () => {
    for (const server of [service, asking]) {
      server?.closeAllConnections();
      await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    }
    await env?.close();
  });

  it('the service completes the handshake without a CertificateRequest; a server that asks is caught by the same probe', async () => {
    const port = (s: Server) => (s.address() as AddressInfo).port;
    assert.deepEqual(await probeClientCertificateRequest('127.0.0.1', port(service), 'localhost'), { requested: false });
    assert.deepEqual(await probeClientCertificateRequest('127.0.0.1', port(asking), 'localhost'), { requested: true });
  });
});
