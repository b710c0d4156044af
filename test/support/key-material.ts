import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { join } from 'node:path';
import { pkcs11 } from '../../src/hsm/pkcs11.js';
import type { TestEnv } from './test-env.js';

/** The captured Office decrypt request and its published test key, kept in the repository so any clone passes. */
export const OFFICE_VECTOR_DIR = join(process.cwd(), 'test', 'fixtures', 'office-capture');
export function rsaPem(bits = 2048, publicExponent = 65537, type: 'pkcs1' | 'pkcs8' = 'pkcs8'): { pem: string; publicKey: KeyObject } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: bits, publicExponent });
  return { pem: privateKey.export({ type, format: 'pem' }).toString(), publicKey };
}

/** Every object of the token whose label says it belongs to a key name (what a half-done import would leave). */
export async function tokenObjectsOf(env: TestEnv, name: string): Promise<number> {
  return env.service.hsm.connection.withSession(async (session) => {
    const module = env.service.hsm.token.module;
    module.C_FindObjectsInit(session, []);
    try {
      const handles = module.C_FindObjects(session, 10_000);
      return handles.filter((h) => {
        try {
          const [label] = module.C_GetAttributeValue(session, h, [{ type: pkcs11.CKA_LABEL }]);
          return (label?.value as Buffer).toString().startsWith(`dke:${name}/`);
        } catch {
          return false;
        }
      }).length;
    } finally {
      module.C_FindObjectsFinal(session);
    }
  });
}
