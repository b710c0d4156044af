import { randomUUID } from 'node:crypto';
import { AdminRefused } from '../keys/errors.js';
import type { AllowList, KeyRecord, KeyState, KeyVersion } from '../keys/key-version.js';
import { userEntryProblem } from '../keys/access-policy.js';
import { keyIdProblem, keyNameProblem } from '../keys/names.js';
import type { AuditEvent, AuditReader, AuditTrail, KeyStateStore, KeyVault } from '../keys/ports.js';
import { attestationOf, type VersionAttestation } from './key-attestation.js';

export interface KeyAdminDeps {
  readonly store: KeyStateStore;
  readonly vault: KeyVault;
  readonly audit: AuditTrail & AuditReader;
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

export interface VersionSummary {
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

  /** A new Active version generated in the HSM becomes the published one; older versions keep decrypting. */
  async rotate(name: string): Promise<CreatedVersion> {
    this.requireKey(name);
    return this.generateVersion(name, {}, 'rotate');
  }

  /** The reversible block (contract §4): never revives a Deactivated, Compromised or Destroyed version. */
  setEnabled(name: string, keyId: string, enabled: boolean): VersionSummary {
    const action = enabled ? 'enable' : 'disable';
    const version = this.requireVersion(action, name, keyId);
    if (version.state === 'destroyed') {
      this.refuse(action, name, `Version ${keyId} of "${name}" is Destroyed; there is nothing to ${action}.`, keyId);
    }
    this.deps.store.setEnabled(name, keyId, enabled, this.now().toISOString());
    this.recordSuccess(action, name, keyId, { from: version.enabled ? 'enabled' : 'disabled', to: enabled ? 'enabled' : 'disabled', state: version.state });
    return { name, keyId, state: version.state, enabled };
  }

  grant(name: string, kind: keyof AllowList, value: string): boolean {
    return this.#changeGrant('grant', name, kind, value);
  }

  revoke(name: string, kind: keyof AllowList, value: string): boolean {
    return this.#changeGrant('revoke', name, kind, value);
  }

  /** PKCS#11 evidence per version, read from the token itself, with the verdict (contract §3 `attest`). */
  async attest(name: string, keyId?: string): Promise<{ name: string; versions: VersionAttestation[] }> {
    const record = this.requireKey(name);
    const versions = keyId === undefined ? record.versions : [this.requireVersion('attest', name, keyId)];
    const attested: VersionAttestation[] = [];
    for (const version of versions) {
      const evidence = version.state === 'destroyed' ? undefined : await this.deps.vault.attest(version);
      attested.push(attestationOf(version, evidence));
    }
    return { name, versions: attested };
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
    for (const user of options.allow?.users ?? []) {
      const problem = userEntryProblem(user);
      if (problem !== undefined) this.refuse(action, name, problem);
    }
    const state = options.state ?? 'active';
    const ref = { name, keyId };
    await this.deps.vault.generateKeyPair(ref);
    this.deps.store.addVersion(
      { name, keyId, state, origin: 'generated', publish: true, ...(options.allow ? { allow: options.allow } : {}) },
      this.now().toISOString(),
    );
    this.recordSuccess(action, name, keyId, { state, origin: 'generated' });
    return { name, keyId, state, enabled: true };
  }

  protected requireVersion(action: string, name: string, keyId: string): KeyVersion {
    const version = this.requireKey(name).versions.find((v) => v.keyId === keyId);
    if (version === undefined) this.refuse(action, name, `The key "${name}" has no version ${keyId}.`, keyId);
    return version;
  }

  #changeGrant(action: 'grant' | 'revoke', name: string, kind: keyof AllowList, value: string): boolean {
    this.requireKey(name);
    if (value.trim() === '') this.refuse(action, name, 'The value to grant or revoke is empty.');
    const userProblem = action === 'grant' && kind === 'users' ? userEntryProblem(value) : undefined;
    if (userProblem !== undefined) this.refuse(action, name, userProblem);
    const changed = action === 'grant' ? this.deps.store.grant(name, kind, value) : this.deps.store.revoke(name, kind, value);
    this.recordSuccess(action, name, undefined, { kind, value: value.trim(), changed });
    return changed;
  }

  protected requireKey(name: string): KeyRecord {
    const record = this.deps.store.findKey(name);
    if (record === undefined) throw new AdminRefused(`There is no key named "${name}".`);
    return record;
  }

  /** Records an admin action that succeeded, with who ran it. */
  protected recordSuccess(action: string, name: string, keyId: string | undefined, details: AuditEvent['details']): void {
    this.deps.audit.append({
      actor: this.deps.actor,
      action,
      keyName: name,
      ...(keyId !== undefined ? { keyId } : {}),
      outcome: 'succeeded',
      ...(details !== undefined ? { details } : {}),
    });
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
