import { KeyAlreadyInToken, KeyNotFound } from '../keys/errors.js';
import type { KeyState } from '../keys/key-version.js';
import type { AnchoredAuditHead, AnchoredState, EmergencyBlock, KeyEvidence, KeyVault, KeyVersionRef, RsaPublicKey, TokenKeyObject } from '../keys/ports.js';
import type { SessionDecryptor } from './decrypt-thread-pool.js';
import type { HsmConnection } from './hsm-connection.js';
import { bitLength, findAllObjects, readAttribute, readBoolean, readRsaPublicKey } from './object-attributes.js';
import { pkcs11, RSA_OAEP_SHA256, type Handle, type Template } from './pkcs11.js';
import type { Pkcs11Token } from './pkcs11-token.js';
import {
  EVIDENCE_ATTRIBUTES,
  findTemplate,
  LABEL_PREFIX,
  OPERATION_ATTRIBUTES,
  privateKeyTemplate,
  publicKeyTemplate,
} from './rsa-key-templates.js';
import { unwrapRsaPrivateKey } from './rsa-key-import.js';
import { TokenAnchors } from './token-anchors.js';

/**
 * The KeyVault on a PKCS#11 token: every operation takes a pooled session (HsmConnection, which also turns CKR codes
 * into the domain's errors) and names keys by CKA_ID and CKA_LABEL. Private-key handles and public keys are cached per version.
 */
export class Pkcs11KeyVault implements KeyVault {
  readonly #token: Pkcs11Token;
  readonly #connection: HsmConnection;
  readonly #privateHandles = new Map<string, Handle>();
  readonly #publicKeys = new Map<string, RsaPublicKey>();
  readonly #anchors: TokenAnchors;
  #threads: SessionDecryptor | undefined;

  constructor(connection: HsmConnection) {
    this.#token = connection.token;
    this.#connection = connection;
    this.#anchors = new TokenAnchors(connection);
  }

  async generateKeyPair(ref: KeyVersionRef): Promise<RsaPublicKey> {
    return this.#withSession(async (session) => {
      if (this.#findObject(session, ref, pkcs11.CKO_PRIVATE_KEY) !== undefined) {
        throw new KeyAlreadyInToken(`The token already holds a key ${ref.name}/${ref.keyId}; nothing was changed.`);
      }
      const pair = await this.#token.module.C_GenerateKeyPairAsync(
        session,
        { mechanism: pkcs11.CKM_RSA_PKCS_KEY_PAIR_GEN },
        publicKeyTemplate(ref),
        privateKeyTemplate(ref),
      );
      this.#privateHandles.set(cacheKey(ref), pair.privateKey);
      return this.#readPublicKey(session, pair.publicKey);
    });
  }

  async importPrivateKey(ref: KeyVersionRef, pkcs8Der: Buffer, publicKey: RsaPublicKey): Promise<void> {
    await this.#withSession(async (session) => {
      if (this.#findObject(session, ref, pkcs11.CKO_PRIVATE_KEY) !== undefined || this.#findObject(session, ref, pkcs11.CKO_PUBLIC_KEY) !== undefined) {
        throw new KeyAlreadyInToken(`The token already holds a key ${ref.name}/${ref.keyId}; nothing was changed.`);
      }
      this.#privateHandles.set(cacheKey(ref), unwrapRsaPrivateKey(this.#token.module, session, ref, pkcs8Der, publicKey));
    });
  }

  async publicKey(ref: KeyVersionRef): Promise<RsaPublicKey> {
    const cached = this.#publicKeys.get(cacheKey(ref));
    if (cached !== undefined) return cached;
    return this.#withSession(async (session) => {
      const handle = this.#findObject(session, ref, pkcs11.CKO_PUBLIC_KEY);
      if (handle === undefined) throw new KeyNotFound(`public key ${ref.name}/${ref.keyId} not in token`);
      const key = this.#readPublicKey(session, handle);
      this.#publicKeys.set(cacheKey(ref), key);
      return key;
    });
  }

  /** From now on decrypt on these threads (the service does; the CLI keeps the in-thread path). */
  useDecryptThreads(threads: SessionDecryptor | undefined): void {
    this.#threads = threads;
  }

  /**
   * One C_DecryptInit + C_Decrypt. The caller checked that the ciphertext is as long as the modulus (contract §1), so
   * the plaintext fits in a buffer of that length; nothing else is read from the token first.
   */
  async decrypt(ref: KeyVersionRef, ciphertext: Buffer): Promise<Buffer> {
    return this.#withSession(async (session) => {
      const handle = this.#privateHandle(session, ref);
      if (this.#threads !== undefined) return this.#threads.decrypt(session, handle, ciphertext, ciphertext.length);
      const module = this.#token.module;
      module.C_DecryptInit(session, RSA_OAEP_SHA256, handle);
      // `ciphertext` and `output` stay referenced by this frame until the promise settles.
      const output = Buffer.alloc(ciphertext.length);
      const plaintext = await module.C_DecryptAsync(session, ciphertext, output);
      return Buffer.from(plaintext);
    });
  }

  async destroy(ref: KeyVersionRef): Promise<boolean> {
    return this.#withSession(async (session) => {
      let destroyed = false;
      for (const objectClass of [pkcs11.CKO_PRIVATE_KEY, pkcs11.CKO_PUBLIC_KEY]) {
        const handle = this.#findObject(session, ref, objectClass);
        if (handle !== undefined) {
          this.#token.module.C_DestroyObject(session, handle);
          destroyed = true;
        }
      }
      this.forget(ref);
      return destroyed;
    });
  }

  async attest(ref: KeyVersionRef): Promise<KeyEvidence> {
    return this.#withSession(async (session) => {
      const handle = this.#findObject(session, ref, pkcs11.CKO_PRIVATE_KEY);
      if (handle === undefined) throw new KeyNotFound(`private key ${ref.name}/${ref.keyId} not in token`);
      const flag = (type: number): boolean | undefined => this.#readBoolean(session, handle, type);
      const operations = Object.entries(OPERATION_ATTRIBUTES)
        .filter(([, type]) => flag(type) === true)
        .map(([name]) => name);
      const modulus = this.#readAttribute(session, handle, pkcs11.CKA_MODULUS);
      return {
        sensitive: flag(EVIDENCE_ATTRIBUTES.sensitive),
        alwaysSensitive: flag(EVIDENCE_ATTRIBUTES.alwaysSensitive),
        extractable: flag(EVIDENCE_ATTRIBUTES.extractable),
        neverExtractable: flag(EVIDENCE_ATTRIBUTES.neverExtractable),
        local: flag(EVIDENCE_ATTRIBUTES.local),
        modulusBits: modulus === undefined ? undefined : bitLength(modulus),
        operations,
      };
    });
  }

  async forbidDecrypt(ref: KeyVersionRef): Promise<boolean> {
    return this.#withSession(async (session) => {
      const handle = this.#findObject(session, ref, pkcs11.CKO_PRIVATE_KEY);
      if (handle === undefined) return false;
      try {
        this.#token.module.C_SetAttributeValue(session, handle, [{ type: pkcs11.CKA_DECRYPT, value: false }]);
        return this.#readBoolean(session, handle, pkcs11.CKA_DECRYPT) === false;
      } catch {
        // Many HSMs make CKA_DECRYPT read-only after creation (CKR_ATTRIBUTE_READ_ONLY); the state still blocks.
        return false;
      }
    });
  }

  async hasPrivateKey(ref: KeyVersionRef): Promise<boolean> {
    return this.#withSession(async (session) => {
      const present = this.#findObject(session, ref, pkcs11.CKO_PRIVATE_KEY) !== undefined;
      // A handle cached before the object vanished must not outlive it.
      if (!present) this.forget(ref);
      return present;
    });
  }

  async listKeyObjects(): Promise<TokenKeyObject[]> {
    return this.#withSession(async (session) => {
      const found = new Map<string, { ref: KeyVersionRef; privateKey: boolean; publicKey: boolean }>();
      for (const objectClass of [pkcs11.CKO_PRIVATE_KEY, pkcs11.CKO_PUBLIC_KEY]) {
        for (const handle of this.#findAll(session, [{ type: pkcs11.CKA_CLASS, value: objectClass }])) {
          const ref = refFromLabel(this.#readAttribute(session, handle, pkcs11.CKA_LABEL)?.toString('utf8'));
          if (ref === undefined) continue;
          const entry = found.get(cacheKey(ref)) ?? { ref, privateKey: false, publicKey: false };
          if (objectClass === pkcs11.CKO_PRIVATE_KEY) entry.privateKey = true;
          else entry.publicKey = true;
          found.set(cacheKey(ref), entry);
        }
      }
      return [...found.values()];
    });
  }

  anchorState(ref: KeyVersionRef, state: KeyState, at: string): Promise<boolean> {
    return this.#anchors.recordState(ref, state, at);
  }

  anchoredStates(): Promise<AnchoredState[]> {
    return this.#anchors.states();
  }

  anchorEmergencyBlock(block: EmergencyBlock | undefined): Promise<boolean> {
    return this.#anchors.recordBlock(block);
  }

  anchoredEmergencyBlock(): Promise<EmergencyBlock | undefined> {
    return this.#anchors.block();
  }

  anchorAuditHead(head: AnchoredAuditHead): Promise<boolean> {
    return this.#anchors.recordAuditHead(head);
  }

  anchoredAuditHead(): Promise<AnchoredAuditHead | undefined> {
    return this.#anchors.auditHead();
  }

  anchorProblem(): string | undefined {
    return this.#anchors.problem();
  }

  /** Drops cached handles of a version (after delete, or when the token was reset). */
  forget(ref?: KeyVersionRef): void {
    if (ref === undefined) {
      this.#privateHandles.clear();
      return;
    }
    this.#privateHandles.delete(cacheKey(ref));
    this.#publicKeys.delete(cacheKey(ref));
  }

  #withSession<T>(work: (session: Handle) => Promise<T>): Promise<T> {
    return this.#connection.withSession(work);
  }

  #privateHandle(session: Handle, ref: KeyVersionRef): Handle {
    const cached = this.#privateHandles.get(cacheKey(ref));
    if (cached !== undefined) return cached;
    const handle = this.#findObject(session, ref, pkcs11.CKO_PRIVATE_KEY);
    if (handle === undefined) throw new KeyNotFound(`private key ${ref.name}/${ref.keyId} not in token`);
    this.#privateHandles.set(cacheKey(ref), handle);
    return handle;
  }

  /** C_FindObjectsInit is always paired with C_FindObjectsFinal, or the session stays busy with the search. */
  #findObject(session: Handle, ref: KeyVersionRef, objectClass: number): Handle | undefined {
    const module = this.#token.module;
    module.C_FindObjectsInit(session, findTemplate(ref, objectClass));
    try {
      return module.C_FindObjects(session) ?? undefined;
    } finally {
      module.C_FindObjectsFinal(session);
    }
  }

  #findAll(session: Handle, template: Template): Handle[] {
    return findAllObjects(this.#token.module, session, template);
  }

  #readPublicKey(session: Handle, handle: Handle): RsaPublicKey {
    return readRsaPublicKey(this.#token.module, session, handle);
  }

  #readAttribute(session: Handle, handle: Handle, type: number): Buffer | undefined {
    return readAttribute(this.#token.module, session, handle, type);
  }

  #readBoolean(session: Handle, handle: Handle, type: number): boolean | undefined {
    return readBoolean(this.#token.module, session, handle, type);
  }
}

/** The key version a `dke:<name>/<keyId>` label names (see objectLabel); undefined for anyone else's object. */
function refFromLabel(label: string | undefined): KeyVersionRef | undefined {
  if (label === undefined || !label.startsWith(LABEL_PREFIX)) return undefined;
  const rest = label.slice(LABEL_PREFIX.length);
  const slash = rest.lastIndexOf('/');
  if (slash <= 0 || slash === rest.length - 1) return undefined;
  return { name: rest.slice(0, slash), keyId: rest.slice(slash + 1) };
}

function cacheKey(ref: KeyVersionRef): string {
  return `${ref.name}\u0000${ref.keyId}`;
}
