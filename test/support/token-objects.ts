import { pkcs11 } from '../../src/hsm/pkcs11.js';
import { findTemplate } from '../../src/hsm/rsa-key-templates.js';
import type { TestEnv } from './test-env.js';

/** Destroys the private object of a version directly in the token, leaving the public one and the record. */
export async function destroyPrivateOnly(env: TestEnv, name: string, keyId: string): Promise<void> {
  const { connection, token } = env.service.hsm;
  await connection.withSession(async (session) => {
    token.module.C_FindObjectsInit(session, findTemplate({ name, keyId }, pkcs11.CKO_PRIVATE_KEY));
    const handle = token.module.C_FindObjects(session);
    token.module.C_FindObjectsFinal(session);
    if (handle !== null) token.module.C_DestroyObject(session, handle);
  });
}
