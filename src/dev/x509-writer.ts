import { createHash, randomBytes, sign, type KeyObject } from 'node:crypto';
import { isIP } from 'node:net';

/**
 * Just enough DER (ITU-T X.690) to write the X.509 v3 certificates of `dke dev --https` (RFC 5280): Node can read and
 * verify certificates but not make them, and the development certificate must not need openssl on the machine (the
 * container image has none). ECDSA P-256 with SHA-256 only; nothing here parses anything.
 */

export interface CertificateRequest {
  readonly subjectCommonName: string;
  readonly subjectPublicKey: KeyObject;
  /** The issuer's name and signing key; the subject's own for a self-signed certificate. */
  readonly issuerCommonName: string;
  readonly issuerPublicKey: KeyObject;
  readonly issuerPrivateKey: KeyObject;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** A CA certificate may sign others (and nothing else); a server certificate serves TLS for `names`. */
  readonly kind: { readonly ca: true } | { readonly ca: false; readonly names: readonly string[] };
}

const OID = {
  commonName: '2.5.4.3',
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  authorityKeyIdentifier: '2.5.29.35',
  extKeyUsage: '2.5.29.37',
  serverAuth: '1.3.6.1.5.5.7.3.1',
} as const;

/** A certificate as PEM text, signed with the issuer's private key. */
export function writeCertificate(request: CertificateRequest): string {
  const algorithm = sequence(oid(OID.ecdsaWithSha256));
  const tbs = sequence(
    tlv(0xa0, integer(Buffer.from([2]))), // [0] version: v3
    integer(serialNumber()),
    algorithm,
    name(request.issuerCommonName),
    sequence(time(request.notBefore), time(request.notAfter)),
    name(request.subjectCommonName),
    request.subjectPublicKey.export({ type: 'spki', format: 'der' }),
    tlv(0xa3, sequence(...extensions(request))), // [3] extensions
  );
  const signature = sign('sha256', tbs, request.issuerPrivateKey);
  const der = sequence(tbs, algorithm, bitString(signature));
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----\n`;
}

function extensions(request: CertificateRequest): Buffer[] {
  const keyIds = [
    extension(OID.subjectKeyIdentifier, false, octetString(keyIdentifier(request.subjectPublicKey))),
    extension(OID.authorityKeyIdentifier, false, sequence(tlv(0x80, keyIdentifier(request.issuerPublicKey)))),
  ];
  if (request.kind.ca) {
    return [
      extension(OID.basicConstraints, true, sequence(tlv(0x01, Buffer.from([0xff])))),
      extension(OID.keyUsage, true, Buffer.from([0x03, 0x02, 0x01, 0x06])), // keyCertSign, cRLSign
      ...keyIds,
    ];
  }
  return [
    extension(OID.basicConstraints, true, sequence()),
    extension(OID.keyUsage, true, Buffer.from([0x03, 0x02, 0x07, 0x80])), // digitalSignature
    extension(OID.extKeyUsage, false, sequence(oid(OID.serverAuth))),
    extension(OID.subjectAltName, false, sequence(...request.kind.names.map(generalName))),
    ...keyIds,
  ];
}

/** dNSName [2] or iPAddress [7], as RFC 5280 §4.2.1.6 writes them. */
function generalName(value: string): Buffer {
  const family = isIP(value);
  if (family === 4) return tlv(0x87, Buffer.from(value.split('.').map(Number)));
  if (family === 6) return tlv(0x87, ipv6Bytes(value));
  return tlv(0x82, Buffer.from(value, 'ascii'));
}

function ipv6Bytes(address: string): Buffer {
  const [head = '', tail = ''] = address.split('::');
  const groups = (text: string) => (text === '' ? [] : text.split(':').map((g) => parseInt(g, 16)));
  const start = groups(head);
  const end = groups(tail);
  const all = address.includes('::') ? [...start, ...new Array<number>(8 - start.length - end.length).fill(0), ...end] : start;
  const bytes = Buffer.alloc(16);
  all.forEach((group, i) => bytes.writeUInt16BE(group, i * 2));
  return bytes;
}

/** RFC 5280 §4.2.1.2 method 1: SHA-1 of the subjectPublicKey bits. */
function keyIdentifier(key: KeyObject): Buffer {
  const spki = key.export({ type: 'spki', format: 'der' });
  // The last element of the SPKI sequence is the BIT STRING of the key; for P-256 it is the final 65 bytes.
  return createHash('sha1').update(spki.subarray(spki.length - 65)).digest();
}

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return sequence(oid(id), ...(critical ? [tlv(0x01, Buffer.from([0xff]))] : []), octetString(value));
}

function name(commonName: string): Buffer {
  return sequence(tlv(0x31, sequence(oid(OID.commonName), tlv(0x0c, Buffer.from(commonName, 'utf8')))));
}

/** UTCTime until 2049, GeneralizedTime from 2050 (RFC 5280 §4.1.2.5), to the second, in UTC. */
function time(date: Date): Buffer {
  const text = date.toISOString().replace(/[-:T]/g, '').slice(0, 14);
  return date.getUTCFullYear() < 2050 ? tlv(0x17, Buffer.from(`${text.slice(2)}Z`)) : tlv(0x18, Buffer.from(`${text}Z`));
}

/** 16 random bytes, positive (RFC 5280 §4.1.2.2: at most 20 octets, non-negative). */
function serialNumber(): Buffer {
  const serial = randomBytes(16);
  serial[0] = (serial[0]! & 0x7f) | 0x01;
  return serial;
}

function integer(value: Buffer): Buffer {
  return tlv(0x02, value[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), value]) : value);
}

function oid(dotted: string): Buffer {
  const [first = 0, second = 0, ...rest] = dotted.split('.').map(Number);
  const bytes = [first * 40 + second];
  for (const arc of rest) {
    const chunk = [arc & 0x7f];
    for (let v = arc >>> 7; v > 0; v >>>= 7) chunk.unshift((v & 0x7f) | 0x80);
    bytes.push(...chunk);
  }
  return tlv(0x06, Buffer.from(bytes));
}

const octetString = (value: Buffer): Buffer => tlv(0x04, value);
const bitString = (value: Buffer): Buffer => tlv(0x03, Buffer.concat([Buffer.from([0]), value]));
const sequence = (...items: Buffer[]): Buffer => tlv(0x30, Buffer.concat(items));

function tlv(tag: number, content: Buffer): Buffer {
  const length = content.length;
  if (length < 0x80) return Buffer.concat([Buffer.from([tag, length]), content]);
  const lengthBytes: number[] = [];
  for (let v = length; v > 0; v >>>= 8) lengthBytes.unshift(v & 0xff);
  return Buffer.concat([Buffer.from([tag, 0x80 | lengthBytes.length, ...lengthBytes]), content]);
}
