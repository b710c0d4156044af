import type { TestEnv } from './test-env.js';
import { encryptLikeOffice } from './office-client.js';

/** The public JWK of a key version, as the token holds it (works for versions GET no longer serves). */
export async function versionJwk(env: TestEnv, name: string, keyId: string): Promise<{ n: string; e: number }> {
  const key = await env.service.hsm.vault.publicKey({ name, keyId });
  return { n: key.modulus.toString('base64'), e: 65537 };
}

/** POSTs an Office-shaped decrypt of `plaintext` under the version's public key; returns the supertest response. */
export async function decryptAs(env: TestEnv, upn: string, name: string, keyId: string, plaintext: Buffer, jwk?: { n: string; e: number }) {
  const key = jwk ?? (await versionJwk(env, name, keyId));
  return env.http
    .post(`/${name}/${keyId}/decrypt`)
    .set('Content-Type', 'application/json')
    .set('Authorization', `Bearer ${await env.token({ upn })}`)
    .send(JSON.stringify({ alg: 'RSA-OAEP-256', value: encryptLikeOffice(key, plaintext) }));
}
