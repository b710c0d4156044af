import type { KeyState } from '../keys/key-version.js';
import { hasObjectsInToken } from '../keys/lifecycle.js';
import type { AdminContext } from './admin-context.js';
import { toView, type ImpactPreview, type KeyView } from './key-admin-views.js';
import { attestationOf, type VersionAttestation } from './key-attestation.js';
import { impactOf } from './key-impact.js';

/** What an admin reads about keys (contract §3 `list`, `show`, `attest`; the console's impact preview). */
export class KeyReads {
  readonly #ctx: AdminContext;

  constructor(ctx: AdminContext) {
    this.#ctx = ctx;
  }

  async list(): Promise<KeyView[]> {
    const { store } = this.#ctx.deps;
    const views: KeyView[] = [];
    for (const record of store.listKeys()) views.push(toView(record, await store.lastUses(record.name)));
    return views;
  }

  async show(name: string): Promise<KeyView> {
    return toView(await this.#ctx.requireKey(name), await this.#ctx.deps.store.lastUses(name));
  }

  /** What a permanent step would do, as a pure read: see key-impact.ts. */
  impact(name: string, keyId: string, to: KeyState): Promise<ImpactPreview> {
    return impactOf(this.#ctx, name, keyId, to);
  }

  /** PKCS#11 evidence per version, read from the token itself, with the verdict (contract §3 `attest`). A read: no audit entry. */
  async attest(name: string, keyId?: string): Promise<{ name: string; versions: VersionAttestation[] }> {
    const ctx = this.#ctx;
    const record = await ctx.requireKey(name);
    const versions = keyId === undefined ? record.versions : [await ctx.readVersion(name, keyId)];
    const attested: VersionAttestation[] = [];
    for (const version of versions) {
      const evidence = hasObjectsInToken(version.state) ? await ctx.deps.vault.attest(version) : undefined;
      attested.push(attestationOf(version, evidence));
    }
    return { name, versions: attested };
  }
}
