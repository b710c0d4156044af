import { randomUUID } from 'node:crypto';
import { AdminRefused } from '../keys/errors.js';
import type { AllowList, KeyRecord, KeyState, KeyVersion } from '../keys/key-version.js';
import { keyIdProblem, keyNameProblem } from '../keys/names.js';
import type { AuditTrail, KeyStateStore, KeyVault } from '../keys/ports.js';

export interface KeyAdminDeps {
  readonly store: KeyStateStore;
  readonly vault: KeyVault;
  readonly audit: AuditTrail;
  /** Who runs the command: the OS user for the CLI, an admin identity otherwise. */
  readonly actor: string;
  readonly now?: () => Date;
}

export interface CreatedVersion {
  readonly name: string;
  readonly keyId: string;
  readonly state: KeyState;
  readonly enabled: boolean;
}

export interface KeyView {
  readonly name: string;
  readonly allow: AllowList;
  readonly versions: (Pick<KeyVersion, 'keyId' | 'state' | 'enabled' | 'origin' | 'createdAt'> & { published: boolean })[];
}

export interface CreateKeyOptions {
  readonly state?: 'active' | 'pre-active';
  readonly allow?: AllowList;
  readonly keyId?: string;
}

/** Administration of key names and versions (contract §3). Every action is recorded in the audit trail. */
export class KeyAdmin {
  protected readonly deps: KeyAdminDeps;
  protected readonly now: () => Date;

  constructor(deps: KeyAdminDeps) {
    this.deps = deps;
    this.now = deps.now ?? (() => new Date());
  }

  /** Generates a new key name's first version inside the HSM and publishes it. */
  async create(name: string, options: CreateKeyOptions = {}): Promise<CreatedVersion> {
    const problem = keyNameProblem(name);
    if (problem !== undefined) this.refuse('create', name, problem);
    if (this.deps.store.findKey(name) !== undefined) {
      this.refuse('create', name, `The key name "${name}" exists already; use "dke keys rotate ${name}" for a new version.`);
    }
    return this.generateVersion(name, options, 'create');
  }

  list(): KeyView[] {
    return this.deps.store.listKeys().map(toView);
  }

  show(name: string): KeyView {
    return toView(this.requireKey(name));
  }

  protected async generateVersion(name: string, options: CreateKeyOptions, action: string): Promise<CreatedVersion> {
    const keyId = options.keyId ?? randomUUID();
    const idProblem = keyIdProblem(keyId);
    if (idProblem !== undefined) this.refuse(action, name, idProblem);
    const state = options.state ?? 'active';
    const ref = { name, keyId };
    await this.deps.vault.generateKeyPair(ref);
    this.deps.store.addVersion(
      { name, keyId, state, origin: 'generated', publish: true, ...(options.allow ? { allow: options.allow } : {}) },
      this.now().toISOString(),
    );
    this.deps.audit.append({
      actor: this.deps.actor,
      action,
      keyName: name,
      keyId,
      outcome: 'succeeded',
      details: { state, origin: 'generated' },
    });
    return { name, keyId, state, enabled: true };
  }

  protected requireKey(name: string): KeyRecord {
    const record = this.deps.store.findKey(name);
    if (record === undefined) throw new AdminRefused(`There is no key named "${name}".`);
    return record;
  }

  /** Records the refusal and throws it with the sentence the operator sees. */
  protected refuse(action: string, name: string | undefined, sentence: string, keyId?: string): never {
    this.deps.audit.append({
      actor: this.deps.actor,
      action,
      ...(name !== undefined ? { keyName: name } : {}),
      ...(keyId !== undefined ? { keyId } : {}),
      outcome: 'refused',
      reason: sentence,
    });
    throw new AdminRefused(sentence);
  }
}

function toView(record: KeyRecord): KeyView {
  return {
    name: record.name,
    allow: record.allow,
    versions: record.versions.map((v) => ({
      keyId: v.keyId,
      state: v.state,
      enabled: v.enabled,
      published: v.keyId === record.publishedKeyId,
      origin: v.origin,
      createdAt: v.createdAt,
    })),
  };
}
