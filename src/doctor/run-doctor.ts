import { fail, type DoctorCheck } from './checks.js';
import { checkChallenge, checkToken } from './auth-checks.js';
import { checkPublicKey } from './key-checks.js';
import { checkDns, checkHttps, checkTls } from './tls-checks.js';

export interface DoctorOptions {
  /** The URL of the sensitivity label: https://host[/prefix]/keyName. */
  readonly url: string;
  /** An access token for the service, as Office would send it; enables the claim checks and the decrypt round trip. */
  readonly token?: string;
  readonly now?: Date;
}

/**
 * `dke doctor` (contract §8): checks a deployment from the outside, in the order Office meets it (name, TLS, key,
 * challenge, token, decrypt). A check whose premise failed (no DNS, no key) ends the run: what follows it would only
 * repeat the same failure.
 */
export async function runDoctor(options: DoctorOptions): Promise<DoctorCheck[]> {
  const now = options.now ?? new Date();
  let url: URL;
  try {
    url = new URL(options.url);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error('not http');
    if (url.pathname.replace(/\/+$/, '') === '') throw new Error('no key name');
  } catch {
    return [fail('url', `"${options.url}" is not a key URL`, 'Give the URL of the sensitivity label, e.g. https://dke.contoso.com/mykey.')];
  }
  url.search = '';
  const checks: DoctorCheck[] = [];
  const dns = await checkDns(url);
  checks.push(dns);
  if (dns.status === 'fail') return checks;
  checks.push(checkHttps(url));
  if (url.protocol === 'https:') {
    const tls = await checkTls(url, now);
    checks.push(...tls);
    if (tls.length === 1 && tls[0]!.status === 'fail') return checks;
  }
  const { checks: keyChecks, key } = await checkPublicKey(url, now);
  checks.push(...keyChecks);
  if (key === undefined) return checks;
  const { checks: challengeChecks, challenge } = await checkChallenge(key);
  checks.push(...challengeChecks);
  if (options.token !== undefined) checks.push(...(await checkToken(options.token, key, challenge, now)));
  return checks;
}
