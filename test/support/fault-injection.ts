import type { SessionDecryptor } from '../../src/hsm/decrypt-thread-pool.js';
import { pkcs11, type Handle, type Pkcs11Module } from '../../src/hsm/pkcs11.js';

/**
 * Injects PKCS#11 errors at the adapter boundary while delegating everything else to the real token (issue 6): wrap
 * the pkcs11js module (main-thread calls: C_OpenSession, C_Login, C_FindObjects…) and the decrypt threads (whose
 * C_DecryptInit + C_Decrypt show up here as "C_Decrypt"). Each planned fault fires on the next calls of its method.
 */
export class FaultPlan {
  readonly #faults = new Map<string, (number | undefined)[]>();
  readonly #calls = new Map<string, number>();
  readonly #beforeDecrypt: ((session: Handle) => void)[] = [];

  /**
   * The next `times` calls of `method` fail with CKR `code` (by name, e.g. "CKR_DEVICE_ERROR"), after `skip` calls
   * that go through (to reach, say, the second C_CreateObject of an operation).
   */
  inject(method: string, ckrName: string, times = 1, skip = 0): void {
    const code = (pkcs11 as unknown as Record<string, number>)[ckrName];
    if (typeof code !== 'number') throw new Error(`unknown CKR ${ckrName}`);
    const planned = [...Array<undefined>(skip).fill(undefined), ...Array<number>(times).fill(code)];
    this.#faults.set(method, [...(this.#faults.get(method) ?? []), ...planned]);
  }

  /**
   * Runs `action` with the session of each of the next `times` decrypts, on the main thread just before the decrypt
   * is handed to its thread: a point where the test knows no thread is inside the token on that session.
   */
  beforeDecrypt(action: (session: Handle) => void, times = 1): void {
    for (let i = 0; i < times; i += 1) this.#beforeDecrypt.push(action);
  }

  calls(method: string): number {
    return this.#calls.get(method) ?? 0;
  }

  clear(): void {
    this.#faults.clear();
    this.#beforeDecrypt.length = 0;
  }

  #check(method: string): void {
    this.#calls.set(method, this.calls(method) + 1);
    const code = this.#faults.get(method)?.shift();
    if (code === undefined) return;
    const name = Object.keys(pkcs11).find((k) => k.startsWith('CKR_') && (pkcs11 as unknown as Record<string, number>)[k] === code)!;
    throw new pkcs11.Pkcs11Error(`${name}:${code}`, code, method);
  }

  readonly wrapModule = (module: Pkcs11Module): Pkcs11Module =>
    new Proxy(module, {
      get: (target, property, receiver) => {
        const value: unknown = Reflect.get(target, property, receiver);
        if (typeof value !== 'function') return value;
        if (typeof property === 'string' && property.startsWith('C_')) {
          return (...args: unknown[]) => {
            this.#check(property);
            return (value as (...a: unknown[]) => unknown).apply(target, args);
          };
        }
        return (value as (...a: unknown[]) => unknown).bind(target);
      },
    });

  readonly wrapDecryptor = (decryptor: SessionDecryptor): SessionDecryptor => ({
    decrypt: async (session, key, ciphertext, outputLength) => {
      this.#beforeDecrypt.shift()?.(session);
      this.#check('C_Decrypt');
      return decryptor.decrypt(session, key, ciphertext, outputLength);
    },
  });
}
