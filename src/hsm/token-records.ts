import { classifyCkr, ckrName } from './ckr-classes.js';
import type { HsmConnection } from './hsm-connection.js';
import { findAllObjects, readAttribute } from './object-attributes.js';
import { pkcs11, type Handle, type Pkcs11Module, type Template } from './pkcs11.js';

/** Every record of the service starts its label so; no key object does (those are `dke:`, rsa-key-templates.ts). */
export const RECORD_LABEL_PREFIX = 'dke-anchor:';
/** CKA_APPLICATION of a data-object record. */
const APPLICATION = 'dke-service';

/** How this token keeps records: as data objects, as inert secret-key objects, or not at all (a sentence why). */
export type RecordKind = 'data-object' | 'secret-key' | { readonly refused: string };

/** One record read back: its label (after the prefix) and its JSON value. */
export interface TokenRecord {
  readonly name: string;
  readonly value: unknown;
}

/**
 * Small JSON records the service keeps on the token beside the keys (issue 25: what must never be undone). A record
 * is a private token object labelled `dke-anchor:<name>`: a data object (CKO_DATA, CKA_APPLICATION dke-service) where
 * the token keeps them, else a generic secret that allows no operation, its value also in CKA_ID (NSS softoken keeps
 * no data objects, src/hsm/probe-data-object.ts, and keeps a private secret's CKA_VALUE sensitive). Records are never changed in place: a new one is created before the old one
 * goes, so a reader always finds one. A transient token error is thrown; a refusal of both kinds is remembered.
 */
export class TokenRecords {
  readonly #connection: HsmConnection;
  #kind: RecordKind | undefined;

  constructor(connection: HsmConnection) {
    this.#connection = connection;
  }

  /** How records are kept, once a write has tried (undefined before the first). */
  get kind(): RecordKind | undefined {
    return this.#kind;
  }

  /** Creates a record; false when the token refuses records of both kinds (then `kind` says why). */
  async write(name: string, value: unknown): Promise<boolean> {
    return this.#connection.withSession(async (session) => this.#create(session, name, value) !== undefined);
  }

  /** Creates `name` anew and then removes every older record of that name (one replaced record, never none). */
  async replace(name: string, value: unknown): Promise<boolean> {
    return this.#connection.withSession(async (session) => {
      const older = this.#find(session, labelTemplate(name));
      const created = this.#create(session, name, value);
      if (created === undefined) return false;
      for (const handle of older) this.#module.C_DestroyObject(session, handle);
      return true;
    });
  }

  /** Removes every record of this name; true when one was there. */
  async remove(name: string): Promise<boolean> {
    return this.#connection.withSession(async (session) => {
      const found = this.#find(session, labelTemplate(name));
      for (const handle of found) this.#module.C_DestroyObject(session, handle);
      return found.length > 0;
    });
  }

  /** The values of the records of this name (usually one): one C_FindObjects by label, cheap enough to poll. */
  async read(name: string): Promise<unknown[]> {
    return this.#connection.withSession(async (session) => this.#find(session, labelTemplate(name)).flatMap((handle) => this.#value(session, handle) ?? []));
  }

  /** Every record of the service whose name starts with `prefix`. */
  async list(prefix: string): Promise<TokenRecord[]> {
    return this.#connection.withSession(async (session) => {
      const handles = [
        ...this.#find(session, [{ type: pkcs11.CKA_CLASS, value: pkcs11.CKO_DATA }, { type: pkcs11.CKA_APPLICATION, value: APPLICATION }]),
        ...this.#find(session, [{ type: pkcs11.CKA_CLASS, value: pkcs11.CKO_SECRET_KEY }]),
      ];
      const records: TokenRecord[] = [];
      for (const handle of handles) {
        const label = readAttribute(this.#module, session, handle, pkcs11.CKA_LABEL)?.toString('utf8') ?? '';
        if (!label.startsWith(RECORD_LABEL_PREFIX + prefix)) continue;
        const value = this.#value(session, handle);
        if (value !== undefined) records.push({ name: label.slice(RECORD_LABEL_PREFIX.length), value });
      }
      return records;
    });
  }

  get #module(): Pkcs11Module {
    return this.#connection.token.module;
  }

  /** Tries the kind known to work, else data object then secret key; a transient error is thrown, refusals are kept. */
  #create(session: Handle, name: string, value: unknown): Handle | undefined {
    const bytes = Buffer.from(JSON.stringify(value), 'utf8');
    if (this.#kind !== undefined && typeof this.#kind !== 'string') return undefined;
    const kinds: readonly ('data-object' | 'secret-key')[] = this.#kind === undefined ? ['data-object', 'secret-key'] : [this.#kind];
    const refusals: string[] = [];
    for (const kind of kinds) {
      try {
        const handle = this.#module.C_CreateObject(session, recordTemplate(kind, name, bytes));
        this.#kind = kind;
        return handle;
      } catch (error) {
        if (classifyCkr(error) === 'transient') throw error;
        refusals.push(`${kind === 'data-object' ? 'a data object (CKO_DATA)' : 'a generic secret object'} with ${ckrName(error)}`);
      }
    }
    if (this.#kind === undefined) this.#kind = { refused: `the token refused ${refusals.join(' and ')}` };
    return undefined;
  }

  /** CKA_VALUE of a data object; a secret object's value may be kept sensitive (NSS does), so it is in CKA_ID too. */
  #value(session: Handle, handle: Handle): unknown {
    const bytes = readAttribute(this.#module, session, handle, pkcs11.CKA_VALUE) ?? readAttribute(this.#module, session, handle, pkcs11.CKA_ID);
    if (bytes === undefined) return undefined;
    try {
      return JSON.parse(bytes.toString('utf8')) as unknown;
    } catch {
      return undefined;
    }
  }

  #find(session: Handle, template: Template): Handle[] {
    return findAllObjects(this.#module, session, template);
  }
}

function labelTemplate(name: string): Template {
  return [{ type: pkcs11.CKA_LABEL, value: RECORD_LABEL_PREFIX + name }];
}

/** A private token object that only carries its value: a data object, or a generic secret allowing no operation. */
function recordTemplate(kind: 'data-object' | 'secret-key', name: string, value: Buffer): Template {
  const common: Template = [
    { type: pkcs11.CKA_TOKEN, value: true },
    { type: pkcs11.CKA_PRIVATE, value: true },
    { type: pkcs11.CKA_LABEL, value: RECORD_LABEL_PREFIX + name },
    { type: pkcs11.CKA_VALUE, value },
  ];
  if (kind === 'data-object') return [{ type: pkcs11.CKA_CLASS, value: pkcs11.CKO_DATA }, { type: pkcs11.CKA_APPLICATION, value: APPLICATION }, ...common];
  return [
    { type: pkcs11.CKA_CLASS, value: pkcs11.CKO_SECRET_KEY },
    { type: pkcs11.CKA_KEY_TYPE, value: pkcs11.CKK_GENERIC_SECRET },
    { type: pkcs11.CKA_ID, value },
    ...common,
    { type: pkcs11.CKA_SENSITIVE, value: false },
    { type: pkcs11.CKA_EXTRACTABLE, value: true },
    ...[pkcs11.CKA_ENCRYPT, pkcs11.CKA_DECRYPT, pkcs11.CKA_SIGN, pkcs11.CKA_VERIFY, pkcs11.CKA_WRAP, pkcs11.CKA_UNWRAP, pkcs11.CKA_DERIVE].map((type) => ({ type, value: false })),
  ];
}
