import { constants, publicEncrypt, createPublicKey } from 'node:crypto';
import pkcs11js from 'pkcs11js';
import type { Percentiles } from './stats.js';
import { percentiles } from './stats.js';

export interface RawTokenSettings {
  readonly library: string;
  readonly libraryParameters?: string | undefined;
  readonly tokenLabel: string;
  readonly pin: string;
  readonly keyLabel: string;
}

export interface RawResult extends Percentiles {
  readonly concurrency: number;
  readonly opsPerSecond: number;
  readonly errors: number;
  /** User + system CPU of this process per C_Decrypt (the token's crypto, the loop's own work is negligible), ms. */
  readonly cpuMsPerOp: number;
}

const OAEP = {
  mechanism: pkcs11js.CKM_RSA_PKCS_OAEP,
  parameter: { type: pkcs11js.CK_PARAMS_RSA_OAEP, hashAlg: pkcs11js.CKM_SHA256, mgf: pkcs11js.CKG_MGF1_SHA256, source: 1 },
} as unknown as Parameters<InstanceType<typeof pkcs11js.PKCS11>['C_DecryptInit']>[1];

/** A logged-in token with the bench key found: what raw-decrypt and the decrypt floor share. */
export interface RawToken {
  /** A ciphertext of 32 bytes under the key's public half, as Office would send. */
  readonly ciphertext: Buffer;
  openSession(): Buffer;
  closeSession(session: Buffer): void;
  /** C_DecryptInit on the calling thread, then C_DecryptAsync (libuv's threads). */
  decrypt(session: Buffer, ciphertext: Buffer): Promise<Buffer>;
  /** The bench key's private half, for decrypts run elsewhere (the service's decrypt threads). */
  readonly privateKey: Buffer;
  close(): void;
}

export function openRawToken(settings: RawTokenSettings): RawToken {
  const module = new pkcs11js.PKCS11();
  module.load(settings.library);
  module.C_Initialize({
    flags: pkcs11js.CKF_OS_LOCKING_OK,
    ...(settings.libraryParameters ? { libraryParameters: settings.libraryParameters } : {}),
  });
  try {
    const slot = module.C_GetSlotList(true).find((s) => module.C_GetTokenInfo(s).label.trim() === settings.tokenLabel);
    if (slot === undefined) throw new Error(`no token ${settings.tokenLabel}`);
    const first = module.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION);
    module.C_Login(first, pkcs11js.CKU_USER, settings.pin);
    const find = (objectClass: number): Buffer => {
      module.C_FindObjectsInit(first, [
        { type: pkcs11js.CKA_CLASS, value: objectClass },
        { type: pkcs11js.CKA_LABEL, value: settings.keyLabel },
      ]);
      const handle = module.C_FindObjects(first);
      module.C_FindObjectsFinal(first);
      if (handle === null) throw new Error(`no object ${settings.keyLabel}`);
      return handle;
    };
    const privateKey = find(pkcs11js.CKO_PRIVATE_KEY);
    const [n, e] = module.C_GetAttributeValue(first, find(pkcs11js.CKO_PUBLIC_KEY), [
      { type: pkcs11js.CKA_MODULUS },
      { type: pkcs11js.CKA_PUBLIC_EXPONENT },
    ]);
    const publicKey = createPublicKey({
      key: { kty: 'RSA', n: (n!.value as Buffer).toString('base64url'), e: (e!.value as Buffer).toString('base64url') },
      format: 'jwk',
    });
    return {
      ciphertext: publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, Buffer.alloc(32, 7)),
      privateKey,
      openSession: () => module.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION),
      closeSession: (session) => module.C_CloseSession(session),
      decrypt: async (session, ciphertext) => {
        module.C_DecryptInit(session, OAEP, privateKey);
        return module.C_DecryptAsync(session, ciphertext, Buffer.alloc(256));
      },
      close: () => module.C_Finalize(),
    };
  } catch (error) {
    module.C_Finalize();
    throw error;
  }
}

/**
 * The token's own rate: C_DecryptInit + C_DecryptAsync through pkcs11js, `concurrency` sessions each looping, with
 * no HTTP, no JSON and no JWT. This is the ceiling the service is measured against.
 */
export async function measureRawDecrypt(settings: RawTokenSettings, levels: readonly number[], seconds: number): Promise<RawResult[]> {
  const token = openRawToken(settings);
  try {
    const results: RawResult[] = [];
    for (const concurrency of levels) {
      const sessions = Array.from({ length: concurrency }, () => token.openSession());
      const latencies: number[] = [];
      let errors = 0;
      const cpuBefore = process.cpuUsage();
      const started = performance.now();
      const deadline = started + seconds * 1000;
      await Promise.all(
        sessions.map(async (session) => {
          while (performance.now() < deadline) {
            const t0 = performance.now();
            try {
              await token.decrypt(session, token.ciphertext);
              latencies.push(performance.now() - t0);
            } catch {
              errors += 1;
            }
          }
        }),
      );
      const elapsed = (performance.now() - started) / 1000;
      const cpu = process.cpuUsage(cpuBefore);
      for (const session of sessions) token.closeSession(session);
      const cpuMsPerOp = (cpu.user + cpu.system) / 1000 / Math.max(1, latencies.length);
      results.push({ concurrency, opsPerSecond: latencies.length / elapsed, errors, cpuMsPerOp, ...percentiles(latencies) });
    }
    return results;
  } finally {
    token.close();
  }
}
