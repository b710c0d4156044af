import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { writeTestKey } from './key-material.js';

/** A self-signed certificate made with openssl, as an operator (or certs/make-dev-cert.sh) would, on a test key. */
export function makeCertificate(dir: string, name: string, commonName: string): { cert: string; key: string } {
  const cert = join(dir, `${name}-cert.pem`);
  const key = join(dir, `${name}-key.pem`);
  execFileSync('openssl', ['req', '-x509', '-key', writeTestKey(key), '-sha256', '-days', '1', '-nodes', '-out', cert, '-subj', `/CN=${commonName}`], { stdio: 'ignore' });
  return { cert, key };
}

export type TlsVersion = 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';

/** The certificate a fresh TLS connection is served, and the protocol agreed (or the handshake error). */
export function handshake(
  port: number,
  options: { minVersion?: TlsVersion; maxVersion?: TlsVersion; ciphers?: string } = {},
): Promise<{ protocol: string | null; subject: string } | { error: string }> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port, rejectUnauthorized: false, ...options }, () => {
      const peer = socket.getPeerX509Certificate();
      resolve({ protocol: socket.getProtocol(), subject: peer ? new X509Certificate(peer.raw).subject : '' });
      socket.end();
    });
    socket.on('error', (error) => resolve({ error: error.message }));
  });
}
