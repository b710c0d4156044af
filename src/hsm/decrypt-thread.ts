/**
 * Body of one decrypt thread (see decrypt-thread-pool.ts). It reaches the PKCS#11 module that the main thread already
 * initialised (the library is loaded once per process; its sessions and handles are valid on every thread with
 * CKF_OS_LOCKING_OK) and runs C_DecryptInit + C_Decrypt, both blocking, so the event loop never waits on the HSM.
 */
import { parentPort, workerData } from 'node:worker_threads';
import pkcs11js from 'pkcs11js';
import { RSA_OAEP_SHA256 } from './pkcs11.js';

export interface DecryptThreadSetup {
  readonly library: string;
  readonly libraryParameters?: string;
  /** Bench only: blocks this thread so long after each decrypt, as a network HSM's round trip would. */
  readonly simulatedDelayMs: number;
}

export interface DecryptRequest {
  readonly id: number;
  readonly session: Uint8Array;
  readonly key: Uint8Array;
  readonly ciphertext: Uint8Array;
  readonly outputLength: number;
}

export type DecryptReply =
  | { readonly id: number; readonly plaintext: Uint8Array }
  /** The CKR number of pkcs11js's error (its `code`), undefined for any other failure; never the error's text. */
  | { readonly id: number; readonly ckr: number | undefined };

const setup = workerData as DecryptThreadSetup;
const module = new pkcs11js.PKCS11();
module.load(setup.library);
try {
  module.C_Initialize({
    flags: pkcs11js.CKF_OS_LOCKING_OK,
    ...(setup.libraryParameters !== undefined ? { libraryParameters: setup.libraryParameters } : {}),
  });
} catch {
  // CKR_CRYPTOKI_ALREADY_INITIALIZED: the main thread owns initialisation and finalisation.
}
const pause = setup.simulatedDelayMs > 0 ? new Int32Array(new SharedArrayBuffer(4)) : undefined;

parentPort!.on('message', (request: DecryptRequest) => {
  let reply: DecryptReply;
  try {
    const session = Buffer.from(request.session);
    module.C_DecryptInit(session, RSA_OAEP_SHA256, Buffer.from(request.key));
    const output = Buffer.alloc(request.outputLength);
    const plaintext = module.C_Decrypt(session, Buffer.from(request.ciphertext.buffer, request.ciphertext.byteOffset, request.ciphertext.byteLength), output);
    if (pause !== undefined) Atomics.wait(pause, 0, 0, setup.simulatedDelayMs);
    reply = { id: request.id, plaintext: new Uint8Array(plaintext) };
  } catch (error) {
    reply = { id: request.id, ckr: error instanceof pkcs11js.Pkcs11Error ? error.code : undefined };
  }
  // The plaintext's own buffer is moved to the main thread, not copied.
  parentPort!.postMessage(reply, 'plaintext' in reply ? [reply.plaintext.buffer as ArrayBuffer] : []);
});
parentPort!.postMessage({ ready: true });
