import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeTestKey } from './key-material.js';

export interface PemPair {
  readonly cert: string;
  readonly key: string;
}

/** A certificate authority made with openssl, as an enterprise PKI would have one (CA:true from openssl.cnf's v3_ca). */
export function makeCa(dir: string, name: string): PemPair {
  const cert = join(dir, `${name}-ca.pem`);
  const key = join(dir, `${name}-ca-key.pem`);
  execFileSync('openssl', ['req', '-x509', '-key', writeTestKey(key), '-sha256', '-days', '30', '-nodes', '-out', cert, '-subj', `/CN=${name} test CA`], { stdio: 'ignore' });
  return { cert, key };
}

/**
 * A server certificate signed by `ca` with `openssl ca`, which (unlike `req -x509` in OpenSSL 3.0) accepts any
 * validity period, e.g. one that expired last year. It names localhost and 127.0.0.1 unless `dnsName` says otherwise.
 */
export function issueServerCertificate(dir: string, ca: PemPair, name: string, validity: { start: Date; end: Date }, dnsName = 'localhost'): PemPair {
  const work = join(dir, `${name}-ca-work`);
  mkdirSync(work, { recursive: true });
  writeFileSync(join(work, 'index.txt'), '');
  writeFileSync(join(work, 'serial'), `${Date.now().toString(16).padStart(16, '0')}\n`);
  const config = join(work, 'ca.cnf');
  writeFileSync(
    config,
    [
      '[ ca ]',
      'default_ca = test_ca',
      '[ test_ca ]',
      `database = ${join(work, 'index.txt')}`,
      `new_certs_dir = ${work}`,
      `serial = ${join(work, 'serial')}`,
      'default_md = sha256',
      'policy = any_name',
      'copy_extensions = copy',
      'unique_subject = no',
      '[ any_name ]',
      'commonName = supplied',
      '',
    ].join('\n'),
  );
  const key = join(dir, `${name}-key.pem`);
  const csr = join(work, 'server.csr');
  const cert = join(dir, `${name}-cert.pem`);
  execFileSync('openssl', ['req', '-new', '-key', writeTestKey(key), '-nodes', '-out', csr, '-subj', `/CN=${dnsName}`, '-addext', dnsName === 'localhost' ? 'subjectAltName=DNS:localhost,IP:127.0.0.1' : `subjectAltName=DNS:${dnsName}`], { stdio: 'ignore' });
  const stamp = (d: Date) => `${d.toISOString().replace(/[-:T]/g, '').slice(0, 14)}Z`;
  execFileSync(
    'openssl',
    ['ca', '-batch', '-notext', '-config', config, '-cert', ca.cert, '-keyfile', ca.key, '-in', csr, '-out', cert, '-startdate', stamp(validity.start), '-enddate', stamp(validity.end)],
    { stdio: 'ignore' },
  );
  return { cert, key };
}
