import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { checkServerIdentity, connect, type PeerCertificate, type TLSSocket } from 'node:tls';
import { fail, pass, warn, type DoctorCheck } from './checks.js';
import { probeClientCertificateRequest } from './client-certificate-probe.js';
import { describeError } from './http-probe.js';

/** Certificates closer than this to their end are a warning: renewal should already be under way. */
const EXPIRY_WARNING_DAYS = 30;

/** DNS: does the host of the URL resolve, as Office's first step? */
export async function checkDns(url: URL): Promise<DoctorCheck> {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (isIP(host) !== 0) return pass('dns', `${host} is an IP address`);
  try {
    const addresses = await lookup(host, { all: true });
    return pass('dns', `${host} resolves to ${addresses.map((a) => a.address).join(', ')}`);
  } catch (error) {
    return fail('dns', `${host} does not resolve (${describeError(error)})`, `Create a DNS record for ${host} that points at the service or its load balancer.`);
  }
}

export function checkHttps(url: URL): DoctorCheck {
  if (url.protocol === 'https:') return pass('https', 'the URL uses HTTPS');
  return fail(
    'https',
    `the URL uses ${url.protocol.replace(':', '')}; Office calls DKE services over HTTPS only`,
    `Serve HTTPS (set DKE_TLS_CERT and DKE_TLS_KEY, or put a TLS proxy in front) and put https://${url.host}${url.pathname} in the label.`,
  );
}

/**
 * TLS as Office meets it: protocol version, a chain the machine trusts (Node's CA store plus NODE_EXTRA_CA_CERTS),
 * the host name in the certificate, days to expiry, and no request for a client certificate.
 */
export async function checkTls(url: URL, now: Date): Promise<DoctorCheck[]> {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const port = Number(url.port || 443);
  const servername = isIP(host) === 0 ? host : undefined;
  let socket: TLSSocket;
  try {
    socket = await handshake(host, port, servername);
  } catch (error) {
    return [
      fail('tls', `no TLS handshake with ${host}:${port} (${describeError(error)})`, `Make ${host}:${port} answer TLS 1.2 or newer with the service's certificate.`),
    ];
  }
  const protocol = socket.getProtocol() ?? 'unknown';
  const peer = socket.getPeerCertificate();
  const chainError = socket.authorized ? undefined : String(socket.authorizationError ?? 'not trusted');
  socket.destroy();
  const checks: DoctorCheck[] = [
    protocol === 'TLSv1.2' || protocol === 'TLSv1.3'
      ? pass('tls', `${protocol} negotiated`)
      : fail('tls', `${protocol} negotiated`, 'Allow TLS 1.2 and 1.3 only on this port; Office refuses older protocols.'),
    trustCheck(chainError, peer),
    hostNameCheck(host, peer),
    expiryCheck(peer, now),
  ];
  const request = await probeClientCertificateRequest(host, port, servername);
  checks.push(
    'error' in request
      ? warn('client-certificate', `could not tell whether the server asks for a client certificate (${request.error})`, 'Check the TLS settings of the port by hand: client certificates must not be requested.')
      : request.requested
        ? fail(
            'client-certificate',
            'the server asks clients for a certificate during the handshake; Office builds that use MSIPC fail this handshake',
            'Turn client-certificate negotiation off on this port (IIS: SSL Settings → Client certificates: Ignore; a proxy: no client verification); dke-service itself never asks.',
          )
        : pass('client-certificate', 'the server does not ask for a client certificate'),
  );
  return checks;
}

function handshake(host: string, port: number, servername: string | undefined): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    // The host name is checked on its own below, so that a trusted chain for the wrong name says exactly that.
    const socket = connect({ host, port, ...(servername ? { servername } : {}), rejectUnauthorized: false, checkServerIdentity: () => undefined });
    socket.setTimeout(10_000, () => socket.destroy(new Error('no TLS answer within 10 s')));
    socket.once('secureConnect', () => resolve(socket));
    socket.once('error', reject);
  });
}

function trustCheck(chainError: string | undefined, peer: PeerCertificate): DoctorCheck {
  if (chainError === undefined) return pass('certificate-trust', `issued by ${peer.issuer?.CN ?? 'a trusted CA'}, trusted on this machine`);
  const expired = chainError === 'CERT_HAS_EXPIRED';
  return fail(
    'certificate-trust',
    `the certificate chain is not trusted (${chainError})`,
    expired
      ? 'Renew the certificate and install it (then SIGHUP dke serve, or restart the TLS proxy).'
      : 'Use a certificate from a CA every Office device trusts (a public CA or your enterprise CA); to test with a private CA here, set NODE_EXTRA_CA_CERTS=ca.pem.',
  );
}

function hostNameCheck(host: string, peer: PeerCertificate): DoctorCheck {
  const mismatch = checkServerIdentity(host, peer);
  if (mismatch === undefined) return pass('host-name', `the certificate names ${host}`);
  const names = peer.subjectaltname ?? (peer.subject?.CN ? `CN=${peer.subject.CN}` : 'no names');
  return fail('host-name', `the certificate does not name ${host} (it names ${names})`, `Use a certificate whose subject alternative names include ${host}.`);
}

function expiryCheck(peer: PeerCertificate, now: Date): DoctorCheck {
  const end = new Date(peer.valid_to);
  const days = Math.floor((end.getTime() - now.getTime()) / 86_400_000);
  const when = `${end.toISOString().slice(0, 10)}`;
  if (end.getTime() <= now.getTime()) return fail('certificate-expiry', `the certificate expired on ${when}`, 'Renew the certificate and install it now.');
  if (new Date(peer.valid_from).getTime() > now.getTime()) {
    return fail('certificate-expiry', `the certificate is not valid before ${new Date(peer.valid_from).toISOString().slice(0, 10)}`, 'Check the clock of the machine that issued it, or install the previous certificate until then.');
  }
  if (days < EXPIRY_WARNING_DAYS) return warn('certificate-expiry', `the certificate expires on ${when}, in ${days} days`, 'Renew the certificate before it expires.');
  return pass('certificate-expiry', `valid until ${when} (${days} days)`);
}
