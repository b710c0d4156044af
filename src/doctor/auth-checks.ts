import { constants, createPublicKey, publicEncrypt, randomBytes } from 'node:crypto';
import { decodeJwt, type JWTPayload } from 'jose';
import { tenantIssuers } from '../auth/auth-settings.js';
import { allClouds, cloudOfUrl } from '../config/entra-clouds.js';
import { fail, pass, warn, type DoctorCheck } from './checks.js';
import { describeError, header, jsonBody, probe, type ProbeResponse } from './http-probe.js';
import type { ServedKey } from './key-checks.js';
import { hsmFix, hsmReadiness } from './readiness-probe.js';

/** What the service's defaults accept; the doctor cannot read a remote configuration, so its sentences say "default". */
const DEFAULT_SKEW_SECONDS = 300;
const DEFAULT_SCOPE = 'user_impersonation';
/** The reference service's challenge, byte for byte (contract §1). */
const CHALLENGE = /^Bearer resource="([^"]*)", authorization="([^"]*)", realm="([^"]*)"$/;

export interface Challenge {
  readonly resource: string;
  readonly authorization: string;
}

const decryptUrl = (key: ServedKey) => `${key.url.replace(/\/+$/, '')}/${encodeURIComponent(key.keyId)}/decrypt`;

const decryptRequest = (value: string, token?: string) => ({
  method: 'POST' as const,
  headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
  body: JSON.stringify({ alg: 'RSA-OAEP-256', value }),
});

/**
 * Decrypt without a token, as Office's first call: 401 with the reference's challenge, whose `resource` (the audience
 * Office asks Entra for) must be the label's URL, and an authorization URL of an Entra cloud.
 */
export async function checkChallenge(key: ServedKey): Promise<{ checks: DoctorCheck[]; challenge?: Challenge }> {
  let answer: ProbeResponse;
  try {
    answer = await probe(decryptUrl(key), decryptRequest('AAAA'));
  } catch (error) {
    return { checks: [fail('challenge', `POST ${decryptUrl(key)} got no answer (${describeError(error)})`, 'Make the decrypt route reach the service the same way as the key URL.')] };
  }
  const wwwAuthenticate = header(answer, 'www-authenticate') ?? '';
  const parsed = CHALLENGE.exec(wwwAuthenticate);
  if (answer.status !== 401 || parsed === null) {
    return {
      checks: [
        fail(
          'challenge',
          `decrypt without a token answered ${answer.status}${wwwAuthenticate ? ` with WWW-Authenticate: ${wwwAuthenticate}` : ' without a challenge'}`,
          'Let the 401 and its WWW-Authenticate, resource and authorization headers through unchanged (a proxy or IIS authentication module in front may replace them).',
        ),
      ],
    };
  }
  const [, resource = '', authorization = ''] = parsed;
  const checks: DoctorCheck[] = [pass('challenge', `401 with the challenge: resource="${resource}", authorization="${authorization}"`)];
  checks.push(audienceCheck(resource, new URL(key.url)));
  const cloud = cloudOfUrl(authorization);
  checks.push(
    cloud === undefined
      ? warn('authorization-url', `the challenge sends Office to ${authorization}, which is no Entra sign-in host`, 'Unset DKE_AUTH_AUTHORIZATION_URL, or set DKE_AUTH_CLOUD to public, usgov or china.')
      : pass('authorization-url', `the challenge sends Office to Entra's ${cloud.name} cloud`),
  );
  return { checks, challenge: { resource, authorization } };
}

function audienceCheck(resource: string, url: URL): DoctorCheck {
  if (resource === '') {
    return fail('audience', 'the challenge names no resource, so Office cannot ask Entra for a token', `Set DKE_AUTH_AUDIENCE=${url.origin} (the label's URL, the Application ID URI of the app registration).`);
  }
  let origin: string | undefined;
  try {
    origin = new URL(resource).origin.toLowerCase();
  } catch {
    origin = undefined;
  }
  if (origin === undefined) {
    return warn('audience', `the challenge's resource "${resource}" is not a URL; Office asks Entra for a token for it`, `Put ${url.origin} first in DKE_AUTH_AUDIENCE, as the Application ID URI of the app registration.`);
  }
  if (origin !== url.origin.toLowerCase()) {
    return fail(
      'audience',
      `the challenge's resource is ${resource}, but the label's URL is on ${url.origin}: Office gets a token for ${resource}, which is not the service the label names`,
      `Put ${url.origin} first in DKE_AUTH_AUDIENCE and make it the Application ID URI of the app registration (or use a label URL on ${origin}).`,
    );
  }
  return pass('audience', `the challenge's resource ${resource} is the label's URL, and the service accepts it as audience`);
}

/**
 * With a token: each claim held against what the service accepts, then a decrypt of a value encrypted here with the
 * served key, which must come back equal. The token never appears in a detail.
 */
export async function checkToken(token: string, key: ServedKey, challenge: Challenge | undefined, now: Date): Promise<DoctorCheck[]> {
  let claims: JWTPayload;
  try {
    claims = decodeJwt(token);
  } catch {
    return [fail('token', 'the token is not a JWT', 'Pass the access token itself (the part after "Bearer "), not an id token or a refresh token.')];
  }
  const checks: DoctorCheck[] = [
    tokenAudienceCheck(claims, challenge),
    tokenIssuerCheck(claims),
    tokenScopeCheck(claims),
    tokenLifetimeCheck(claims, now),
    tokenNamesCheck(claims, key),
  ];
  checks.push(await decryptCheck(token, key, claims, checks.every((c) => c.status !== 'fail')));
  return checks;
}

function tokenAudienceCheck(claims: JWTPayload, challenge: Challenge | undefined): DoctorCheck {
  const audiences = Array.isArray(claims.aud) ? claims.aud : claims.aud === undefined ? [] : [claims.aud];
  if (challenge === undefined || challenge.resource === '') return warn('token-aud', `aud is ${audiences.join(', ') || 'missing'}; the service named no resource to compare with`, 'Fix the challenge first (see above).');
  const strip = (s: string) => s.replace(/\/+$/, '');
  if (audiences.some((a) => strip(a) === strip(challenge.resource))) return pass('token-aud', `aud ${audiences.join(', ')} is the challenge's resource`);
  return fail('token-aud', `aud is ${audiences.join(', ') || 'missing'}, but the service asks for ${challenge.resource}`, `Get the token for the resource ${challenge.resource} (the label's URL), as Office does.`);
}

function tokenIssuerCheck(claims: JWTPayload): DoctorCheck {
  const iss = typeof claims.iss === 'string' ? claims.iss : '';
  const tid = typeof claims.tid === 'string' ? claims.tid.toLowerCase() : '';
  const clouds = allClouds().filter((cloud) => tid !== '' && tenantIssuers(cloud, tid).includes(iss));
  if (clouds.length > 0) {
    return pass('token-iss', `issuer ${iss} of tenant ${tid} (${clouds.map((c) => c.name).join(' or ')} cloud); the service admits it when DKE_AUTH_TENANT_IDS lists ${tid}`);
  }
  const issuerTenant = /^https:\/\/[^/]+\/([0-9a-f-]{36})\//i.exec(iss)?.[1]?.toLowerCase();
  if (issuerTenant !== undefined && tid !== '' && issuerTenant !== tid) {
    return fail('token-iss', `the issuer ${iss} names tenant ${issuerTenant} but tid is ${tid}`, 'Get a token from the tenant itself; the service refuses a tid that disagrees with the issuer.');
  }
  return warn('token-iss', `issuer ${iss || '(none)'} is not an Entra tenant issuer`, 'The service admits it only when DKE_AUTH_ISSUERS lists it exactly; otherwise get the token from Entra ID.');
}

function tokenScopeCheck(claims: JWTPayload): DoctorCheck {
  const scopes = typeof claims.scp === 'string' ? claims.scp.split(' ') : [];
  if (scopes.includes(DEFAULT_SCOPE)) return pass('token-scp', `scp contains ${DEFAULT_SCOPE}`);
  if (scopes.length === 0) {
    return fail('token-scp', 'the token has no scp: it is an app-only token, and only users decrypt', 'Get a delegated (user) token for the resource, as Office does.');
  }
  return fail('token-scp', `scp is "${scopes.join(' ')}", without ${DEFAULT_SCOPE} (the service's default DKE_AUTH_REQUIRED_SCOPE)`, `Expose the ${DEFAULT_SCOPE} scope in the app registration and request it for Office.`);
}

function tokenLifetimeCheck(claims: JWTPayload, now: Date): DoctorCheck {
  const t = Math.floor(now.getTime() / 1000);
  const skew = DEFAULT_SKEW_SECONDS;
  const at = (s: number) => new Date(s * 1000).toISOString();
  if (typeof claims.exp !== 'number') return fail('token-exp', 'the token has no exp', 'Get an access token from Entra ID; its tokens always expire.');
  if (claims.exp + skew <= t) return fail('token-exp', `the token expired at ${at(claims.exp)}, beyond the service's default skew of ${skew} s`, 'Get a new token (they last about an hour), and check this machine\'s clock.');
  if (typeof claims.nbf === 'number' && claims.nbf - skew > t) return fail('token-exp', `the token is not valid before ${at(claims.nbf)}, beyond the ${skew} s skew`, "Check the clocks of this machine and of the service (NTP).");
  if (claims.exp <= t) return warn('token-exp', `the token expired at ${at(claims.exp)}; accepted only within the service's skew`, 'Get a new token.');
  return pass('token-exp', `valid until ${at(claims.exp)}`);
}

/** Contract §1: allow lists decide on `oid`, or on `upn` for a member of an allowed tenant; other names never decide. */
function tokenNamesCheck(claims: JWTPayload, key: ServedKey): DoctorCheck {
  const oid = typeof claims.oid === 'string' ? claims.oid : undefined;
  const upn = typeof claims.upn === 'string' ? claims.upn : undefined;
  const keyName = new URL(key.url).pathname.replace(/\/+$/, '').split('/').pop() ?? '';
  if (oid === undefined) return fail('token-names', 'the token has no oid: it names no user', 'Get a user token, as Office does; app-only and personal-account tokens never decrypt.');
  if (upn === undefined) {
    return warn('token-names', `the token has oid ${oid} and no upn (a v2 token or a guest): only a grant by object id admits this user`, `Grant the user by object id: dke keys grant ${keyName} --user ${oid}.`);
  }
  return pass('token-names', `allow lists are matched on oid ${oid} or upn ${upn}`);
}

async function decryptCheck(token: string, key: ServedKey, claims: JWTPayload, claimsHold: boolean): Promise<DoctorCheck> {
  const probeValue = randomBytes(32);
  const publicKey = createPublicKey({ key: { kty: 'RSA', n: key.modulus.toString('base64url'), e: Buffer.from([1, 0, 1]).toString('base64url') }, format: 'jwk' });
  const ciphertext = publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, probeValue);
  let answer: ProbeResponse;
  try {
    answer = await probe(decryptUrl(key), decryptRequest(ciphertext.toString('base64'), token));
  } catch (error) {
    return fail('decrypt', `POST ${decryptUrl(key)} got no answer (${describeError(error)})`, 'Make the decrypt route reach the service the same way as the key URL.');
  }
  const body = jsonBody(answer);
  const keyName = new URL(key.url).pathname.replace(/\/+$/, '').split('/').pop() ?? '';
  const user = String(claims.upn ?? claims.oid ?? 'the user');
  if (answer.status === 200) {
    const value = typeof body?.value === 'string' ? Buffer.from(body.value, 'base64') : undefined;
    return value?.equals(probeValue)
      ? pass('decrypt', `a value encrypted here with version ${key.keyId} came back equal for ${user}`)
      : fail('decrypt', 'the service answered 200 with a different value', 'Check that the HSM object of this version is the key that is served (dke keys attest).');
  }
  if (answer.status === 401) {
    return claimsHold
      ? fail(
          'decrypt',
          `the service refused the token (401) although its aud, scp, lifetime and names hold: tenant ${String(claims.tid)} (issuer ${String(claims.iss)}) is not admitted, or its signing keys are not those of the service's issuer`,
          `Add ${String(claims.tid)} to DKE_AUTH_TENANT_IDS (or the issuer to DKE_AUTH_ISSUERS), and check DKE_AUTH_CLOUD and DKE_AUTH_METADATA_URL; the service log says which check failed.`,
        )
      : fail('decrypt', 'the service refused the token (401), for the reasons above', 'Fix the token checks above, then run the doctor again with a new token.');
  }
  if (answer.status === 403 && body?.error === 'access_denied') {
    return fail('decrypt', `${user} (oid ${String(claims.oid)}) is not on the allow list of ${keyName} (403)`, `Grant the user: dke keys grant ${keyName} --user ${String(claims.oid)} (or a group or app role the token carries).`);
  }
  if (answer.status === 403) {
    return fail('decrypt', `version ${key.keyId} of ${keyName} may not decrypt (403 ${String(body?.error)}): disabled, not Active, or not trusted`, `Look at dke keys show ${keyName}: enable the version, or rotate to a new one.`);
  }
  const detail = `decrypt answered ${answer.status}${typeof body?.message === 'string' ? `: ${body.message}` : ''}`;
  if (answer.status !== 503) return fail('decrypt', detail, 'Read the service log for this request id.');
  return fail('decrypt', detail, hsmFix(await hsmReadiness(key.url)));
}
