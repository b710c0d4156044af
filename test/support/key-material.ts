import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pkcs11 } from '../../src/hsm/pkcs11.js';
import type { TestEnv } from './test-env.js';

/** The captured Office decrypt request and its published test key, kept in the repository so any clone passes. */
export const OFFICE_VECTOR_DIR = join(process.cwd(), 'test', 'fixtures', 'office-capture');

/** RSA-2048 keys made for the tests (test/fixtures/rsa-2048/), each handed out once per process by rsaPem. */
const FIXTURE_KEY_DIR = join(process.cwd(), 'test', 'fixtures', 'rsa-2048');
let fixtureKeysUsed = 0;

/**
 * A private key no other caller of this process got, as PEM (`type`), with its public half. An RSA-2048 key with
 * e = 65537 comes from the fixtures while they last (generating one costs about 0.3 s of CPU); others are generated.
 */
export function rsaPem(bits = 2048, publicExponent = 65537, type: 'pkcs1' | 'pkcs8' = 'pkcs8'): { pem: string; publicKey: KeyObject } {
  const fixture = bits === 2048 && publicExponent === 65537 ? nextFixtureKey() : undefined;
  const { privateKey, publicKey } = fixture ?? generateKeyPairSync('rsa', { modulusLength: bits, publicExponent });
  return { pem: privateKey.export({ type, format: 'pem' }).toString(), publicKey };
}

/** An RSA-2048 key as rsaPem hands them out, written to `file` (PKCS#8 PEM, 0600): openssl `-key` instead of `-newkey`. */
export function writeTestKey(file: string): string {
  writeFileSync(file, rsaPem().pem, { mode: 0o600 });
  return file;
}

function nextFixtureKey(): { privateKey: KeyObject; publicKey: KeyObject } | undefined {
  const file = join(FIXTURE_KEY_DIR, `key-${String(fixtureKeysUsed + 1).padStart(2, '0')}.pem`);
  if (!existsSync(file)) return undefined;
  fixtureKeysUsed += 1;
  const privateKey = createPrivateKey(readFileSync(file));
  return { privateKey, publicKey: createPublicKey(privateKey) };
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
