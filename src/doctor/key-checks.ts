import { fail, pass, warn, type DoctorCheck } from './checks.js';
import { hsmFix, hsmReadiness } from './readiness-probe.js';
import { describeError, jsonBody, probe, type ProbeResponse } from './http-probe.js';

/** The published key as the service served it, and the URL that served it. */
export interface ServedKey {
  /** The URL that answered the key (the one given, or the variant that works). */
  readonly url: string;
  readonly keyId: string;
  readonly kid: string;
  /** The modulus; the exponent is 65537, or the key was refused before a ServedKey was made. */
  readonly modulus: Buffer;
}

/** A Host no deployment serves: how the service answers it tells whether kid is built from the request (RFC 6761 .invalid). */
const FOREIGN_HOST = 'dke-doctor-probe.invalid';

/**
 * `GET URL` as Office does to protect: a valid key (RSA-2048, e 65537, RS256), a kid that starts with the URL, a
 * cache.exp in the future. When the URL answers no key, the variants Office users get wrong are tried (another
 * letter case of the key name, a trailing slash, a path prefix the service does not have) and the one that works is named.
 */
export async function checkPublicKey(given: URL, now: Date): Promise<{ checks: DoctorCheck[]; key?: ServedKey }> {
  let answer: ProbeResponse;
  try {
    answer = await probe(given.href);
  } catch (error) {
    return { checks: [fail('public-key', `GET ${given.href} got no answer (${describeError(error)})`, 'Check that the service runs and that this machine reaches it (firewall, proxy, port).')] };
  }
  const checks: DoctorCheck[] = [];
  let servedUrl = given.href;
  if (answer.status === 503 && jsonBody(answer)?.error === 'hsm_unavailable') return { checks: [await hsmUnavailable(given)] };
  if (keyOf(answer) === undefined) {
    const found = await workingVariant(given);
    if (found === undefined) return { checks: [notServed(given, answer)] };
    checks.push(fail('public-key-url', `GET ${given.href} answered ${answer.status}, but ${found.url} answers the key${found.why}`, found.fix));
    servedUrl = found.url;
    answer = found.answer;
  }
  const body = keyOf(answer)!;
  const problems = keyProblems(body.key);
  const keyId = body.key.kid.split('/').pop() ?? '';
  if (problems.length > 0) {
    checks.push(fail('public-key', `the served key is not one Office can use: ${problems.join('; ')}`, 'Serve an RSA-2048 key with exponent 65537 and alg RS256 (dke keys create makes one).'));
    return { checks };
  }
  checks.push(pass('public-key', `RSA-2048, e 65537, RS256, version ${keyId}`));
  checks.push(kidCheck(servedUrl, body.key.kid));
  checks.push(cacheCheck(body.cache, now));
  const baseUrlCheck = await publicBaseUrlCheck(servedUrl, body.key.kid);
  if (baseUrlCheck !== undefined) checks.push(baseUrlCheck);
  const modulus = Buffer.from(body.key.n, 'base64');
  return { checks, key: { url: servedUrl, keyId, kid: body.key.kid, modulus } };
}

interface KeyBody {
  readonly key: { kty: unknown; n: string; e: number; alg: unknown; kid: string };
  readonly cache?: { exp?: unknown };
}

function keyOf(answer: ProbeResponse): KeyBody | undefined {
  if (answer.status !== 200) return undefined;
  const body = jsonBody(answer);
  const key = body?.key as Record<string, unknown> | undefined;
  if (typeof key !== 'object' || key === null || typeof key.n !== 'string' || typeof key.kid !== 'string') return undefined;
  return body as unknown as KeyBody;
}

function keyProblems(key: KeyBody['key']): string[] {
  const problems: string[] = [];
  if (key.kty !== 'RSA') problems.push(`kty is ${JSON.stringify(key.kty)}, not "RSA"`);
  const bits = modulusBits(Buffer.from(key.n, 'base64'));
  if (bits !== 2048) problems.push(`the modulus has ${bits} bits, not 2048`);
  if (key.e !== 65537) problems.push(`e is ${JSON.stringify(key.e)}, not 65537`);
  if (key.alg !== 'RS256') problems.push(`alg is ${JSON.stringify(key.alg)}, not "RS256"`);
  return problems;
}

function modulusBits(modulus: Buffer): number {
  const start = modulus.findIndex((b) => b !== 0);
  if (start < 0) return 0;
  return (modulus.length - start - 1) * 8 + (32 - Math.clz32(modulus[start]!));
}

function kidCheck(url: string, kid: string): DoctorCheck {
  const prefix = `${url.replace(/\/+$/, '')}/`;
  if (kid.toLowerCase().startsWith(prefix.toLowerCase())) return pass('key-id', `kid ${kid} starts with the URL, so decrypts come back here`);
  const target = new URL(url);
  return fail(
    'key-id',
    `kid ${kid} does not start with ${prefix}: documents protected now would send their decrypts to ${kid}/decrypt`,
    `Set DKE_PUBLIC_BASE_URL=${target.origin}${target.pathname.split('/').length > 2 ? ` and DKE_BASE_PATH=${target.pathname.replace(/\/[^/]*\/?$/, '')}` : ''} so that every kid starts with the label's URL.`,
  );
}

function cacheCheck(cache: KeyBody['cache'], now: Date): DoctorCheck {
  if (cache === undefined) return pass('cache-expiry', 'no cache part: Office fetches the key again each time (DKE_PUBLIC_KEY_CACHE_HOURS=0)');
  const exp = typeof cache.exp === 'string' && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/.test(cache.exp) ? new Date(`${cache.exp}Z`) : undefined;
  if (exp === undefined || Number.isNaN(exp.getTime())) {
    return fail('cache-expiry', `cache.exp is ${JSON.stringify(cache.exp)}, not a UTC time yyyy-MM-ddTHH:mm:ss`, 'Serve cache.exp as the reference service does (dke-service does).');
  }
  if (exp.getTime() <= now.getTime()) return fail('cache-expiry', `cache.exp ${cache.exp} is in the past`, "Check the service machine's clock and time zone (cache.exp is UTC).");
  const hours = Math.round((exp.getTime() - now.getTime()) / 3_600_000);
  return pass('cache-expiry', `Office caches this key until ${cache.exp} UTC (${hours} h); a disabled or retired version stays in their cache until then`);
}

interface Variant {
  readonly url: string;
  readonly answer: ProbeResponse;
  readonly why: string;
  readonly fix: string;
}

/** The first variant of the URL that answers a key: trailing slash removed, key name in another case, prefix dropped. */
async function workingVariant(given: URL): Promise<Variant | undefined> {
  const segments = given.pathname.replace(/\/+$/, '').split('/').slice(1);
  const keyName = segments.pop() ?? '';
  const prefix = segments.map((s) => `/${s}`).join('');
  const candidates: Array<{ url: string; why: string; fix: string }> = [];
  const at = (path: string) => `${given.origin}${path}`;
  if (given.pathname.endsWith('/') && keyName !== '') {
    candidates.push({ url: at(`${prefix}/${keyName}`), why: ' (without the trailing slash)', fix: `Put ${at(`${prefix}/${keyName}`)} in the sensitivity label, without the trailing slash.` });
  }
  const cases = [keyName.toLowerCase(), keyName.toUpperCase(), keyName.charAt(0).toUpperCase() + keyName.slice(1).toLowerCase()];
  for (const name of new Set(cases)) {
    if (name === keyName || name === '') continue;
    candidates.push({
      url: at(`${prefix}/${name}`),
      why: `: key names are case-sensitive and this one is "${name}"`,
      fix: `Put ${at(`${prefix}/${name}`)} in the sensitivity label (the key name exactly as dke keys list shows it).`,
    });
  }
  for (let drop = 1; drop <= segments.length; drop += 1) {
    const shorter = segments.slice(drop).map((s) => `/${s}`).join('');
    const removed = segments.slice(0, drop).map((s) => `/${s}`).join('');
    candidates.push({
      url: at(`${shorter}/${keyName}`),
      why: ` (the service is not mounted under ${removed})`,
      fix: `Put ${at(`${shorter}/${keyName}`)} in the label, or set DKE_BASE_PATH=${removed} if a proxy forwards ${removed} unchanged.`,
    });
  }
  for (const candidate of candidates) {
    try {
      const answer = await probe(candidate.url);
      if (keyOf(answer) !== undefined) return { ...candidate, answer };
    } catch {
      // an unreachable variant is simply not the answer
    }
  }
  return undefined;
}

/** The service is there but cannot reach this key's HSM now: its readiness says why (with vaults, which one). */
async function hsmUnavailable(given: URL): Promise<DoctorCheck> {
  const readiness = await hsmReadiness(given.href);
  return fail('public-key', `GET ${given.href} answered 503 (hsm_unavailable): the service cannot reach this key's HSM now`, hsmFix(readiness));
}

function notServed(given: URL, answer: ProbeResponse): DoctorCheck {
  const body = jsonBody(answer);
  const error = typeof body?.error === 'string' ? body.error : undefined;
  const keyName = given.pathname.replace(/\/+$/, '').split('/').pop() ?? '';
  const detail = `GET ${given.href} answered ${answer.status}${error ? ` (${error})` : ''}, and no other letter case, slash or path prefix answers a key`;
  if (error === 'key_not_found') {
    return fail('public-key', detail, `Publish an Active, Enabled version of "${keyName}" (dke keys show ${keyName}; dke keys create or enable it).`);
  }
  if (error === 'not_found') {
    return fail('public-key', detail, 'The service has no route at this path: check the path prefix (DKE_BASE_PATH) of the service and of the URL.');
  }
  return fail('public-key', detail, 'Make the URL reach dke-service directly (a proxy or a web server in front may answer instead of it).');
}

/**
 * Best effort: asks for the key with a Host no deployment serves. A kid that follows it, or a 421, shows that kid is
 * built from the request (DKE_PUBLIC_BASE_URL unset), so a proxy that rewrites Host changes the kid in new documents.
 */
async function publicBaseUrlCheck(url: string, kid: string): Promise<DoctorCheck | undefined> {
  const target = new URL(url);
  let answer: ProbeResponse;
  try {
    answer = await probe(url, { headers: { host: `${FOREIGN_HOST}${target.port ? `:${target.port}` : ''}` } });
  } catch {
    return undefined;
  }
  const fix = `Set DKE_PUBLIC_BASE_URL=${target.origin} so every kid names the label's URL whatever Host header a proxy sends.`;
  if (answer.status === 421) {
    return warn('public-base-url', 'DKE_PUBLIC_BASE_URL seems unset: kid is built from the request Host (a foreign Host was refused with 421)', fix);
  }
  const other = keyOf(answer)?.key.kid;
  if (other === undefined) return undefined;
  if (other === kid) return pass('public-base-url', 'kid stays the same whatever the Host header (DKE_PUBLIC_BASE_URL is set)');
  return warn('public-base-url', `kid follows the request's Host header (${other} for Host ${FOREIGN_HOST}): DKE_PUBLIC_BASE_URL is unset`, fix);
}
