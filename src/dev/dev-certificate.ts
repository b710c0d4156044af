import { createPrivateKey, createPublicKey, generateKeyPairSync, X509Certificate } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeCertificate } from './x509-writer.js';

/** The TLS files of `dke dev --https`, all in DKE_DATA_DIR/dev-tls. */
export interface DevCertificate {
  /** The development CA: what a client trusts (NODE_EXTRA_CA_CERTS, curl --cacert). */
  readonly caFile: string;
  readonly certFile: string;
  readonly keyFile: string;
  /** True when the files were made now; false when valid ones were kept. */
  readonly made: boolean;
}

/** The names the server certificate carries: what `dke dev` prints (localhost) and the admin listener (127.0.0.1). */
export const DEV_CERTIFICATE_NAMES = ['localhost', '127.0.0.1', '::1'] as const;

const DAY_MS = 86_400_000;
/** `dke doctor` warns under 30 days to expiry; a development certificate never should. */
const RENEW_BEFORE_DAYS = 45;
const CA_DAYS = 825;
const SERVER_DAYS = 397;

/**
 * A development CA and a server certificate it issued for localhost, made once per data folder and kept while they
 * have more than 45 days to run, so that a client trusts one CA file across restarts. ECDSA P-256; the private keys
 * are owner-only files. For development only: anyone who trusts this CA trusts whoever holds its key.
 */
export function ensureDevCertificate(dataDir: string, now: Date = new Date()): DevCertificate {
  const dir = join(dataDir, 'dev-tls');
  const files = { caFile: join(dir, 'ca.pem'), certFile: join(dir, 'cert.pem'), keyFile: join(dir, 'key.pem') };
  if (stillGood(files, now)) return { ...files, made: false };
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const ca = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const server = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const issuer = { issuerCommonName: 'dke-service development CA', issuerPublicKey: ca.publicKey, issuerPrivateKey: ca.privateKey };
  const notBefore = new Date(now.getTime() - DAY_MS);
  const days = (count: number) => new Date(now.getTime() + count * DAY_MS);
  const caPem = writeCertificate({
    ...issuer,
    subjectCommonName: issuer.issuerCommonName,
    subjectPublicKey: ca.publicKey,
    notBefore,
    notAfter: days(CA_DAYS),
    kind: { ca: true },
  });
  const serverPem = writeCertificate({
    ...issuer,
    subjectCommonName: 'localhost',
    subjectPublicKey: server.publicKey,
    notBefore,
    notAfter: days(SERVER_DAYS),
    kind: { ca: false, names: DEV_CERTIFICATE_NAMES },
  });
  // The CA's private key is never written: it signed this one certificate, and kept beside it, anyone who can read the
  // data folder could issue certificates for any name to every client that trusts ca.pem. Renewal makes a new CA.
  writePrivate(files.keyFile, server.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
  writeFileSync(files.caFile, caPem);
  writeFileSync(files.certFile, serverPem);
  return { ...files, made: true };
}

/** The kept files still serve: readable, issued by the CA beside them, for localhost, with time to run. */
function stillGood(files: { caFile: string; certFile: string; keyFile: string }, now: Date): boolean {
  if (![files.caFile, files.certFile, files.keyFile].every((file) => existsSync(file))) return false;
  try {
    const ca = new X509Certificate(readFileSync(files.caFile));
    const cert = new X509Certificate(readFileSync(files.certFile));
    const key = createPrivateKey(readFileSync(files.keyFile));
    const runsUntil = Math.min(new Date(cert.validTo).getTime(), new Date(ca.validTo).getTime());
    return (
      cert.verify(ca.publicKey) &&
      cert.checkHost('localhost') !== undefined &&
      cert.publicKey.export({ type: 'spki', format: 'der' }).equals(createPublicKey(key).export({ type: 'spki', format: 'der' })) &&
      runsUntil - now.getTime() > RENEW_BEFORE_DAYS * DAY_MS
    );
  } catch {
    return false;
  }
}

function writePrivate(file: string, pem: string): void {
  writeFileSync(file, pem, { mode: 0o600 });
  chmodSync(file, 0o600);
}
