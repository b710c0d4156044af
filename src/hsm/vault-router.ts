import { HsmUnavailable } from '../keys/errors.js';
import type { KeyState } from '../keys/key-version.js';
import type { AnchoredAuditHead, AnchoredState, EmergencyBlock, KeyEvidence, KeyStateStore, KeyVault, KeyVersionRef, RsaPublicKey, TokenKeyObject } from '../keys/ports.js';

/** One vault's token as the router reaches it: its KeyVault, and whether its connection answers now. */
export interface RoutedVault {
  readonly vault: KeyVault;
  readonly isUp: () => boolean;
}

/**
 * The KeyVault of several vaults (contract §9): each operation goes to the token of the version's vault, named by the
 * ref (a KeyVersion read from the store carries it) or, for a bare name and id (an intent), the vault the store
 * records for it, else the default vault. On the decrypt path that is one property read and one Map lookup. A vault
 * this instance does not configure answers 503 (HsmUnavailable), as a vault that is down does: its keys wait for it.
 */
export class VaultRouter implements KeyVault {
  readonly #vaults: ReadonlyMap<string, RoutedVault>;
  readonly #default: string;
  #store: Pick<KeyStateStore, 'findKey'> | undefined;

  constructor(vaults: ReadonlyMap<string, RoutedVault>, defaultVault: string) {
    this.#vaults = vaults;
    this.#default = defaultVault;
  }

  /** Where a ref without its vault is looked up (the store's snapshot; set once the store is open). */
  lookUpVaultsIn(store: Pick<KeyStateStore, 'findKey'>): void {
    this.#store = store;
  }

  generateKeyPair(ref: KeyVersionRef): Promise<RsaPublicKey> {
    return this.#route(ref).generateKeyPair(ref);
  }

  importPrivateKey(ref: KeyVersionRef, pkcs8Der: Buffer, publicKey: RsaPublicKey): Promise<void> {
    return this.#route(ref).importPrivateKey(ref, pkcs8Der, publicKey);
  }

  publicKey(ref: KeyVersionRef): Promise<RsaPublicKey> {
    return this.#route(ref).publicKey(ref);
  }

  decrypt(ref: KeyVersionRef, ciphertext: Buffer): Promise<Buffer> {
    return this.#route(ref).decrypt(ref, ciphertext);
  }

  destroy(ref: KeyVersionRef): Promise<boolean> {
    return this.#route(ref).destroy(ref);
  }

  attest(ref: KeyVersionRef): Promise<KeyEvidence> {
    return this.#route(ref).attest(ref);
  }

  forbidDecrypt(ref: KeyVersionRef): Promise<boolean> {
    return this.#route(ref).forbidDecrypt(ref);
  }

  hasPrivateKey(ref: KeyVersionRef): Promise<boolean> {
    return this.#route(ref).hasPrivateKey(ref);
  }

  /** Every vault's objects, each ref naming its vault; a vault that does not answer fails the whole listing. */
  async listKeyObjects(): Promise<TokenKeyObject[]> {
    const lists = await Promise.all([...this.#vaults].map(async ([name, { vault }]) => inVault(name, await vault.listKeyObjects())));
    return lists.flat();
  }

  /**
   * The objects of the vaults that answer; a vault that is down, or fails to list, is named instead. One vault alone is
   * the one token of before vaults: listed as listKeyObjects lists it (its failure is the readiness's failure).
   */
  async listReachableKeyObjects(): Promise<{ objects: TokenKeyObject[]; unreachable: string[] }> {
    if (this.#vaults.size === 1) return { objects: await this.listKeyObjects(), unreachable: [] };
    const objects: TokenKeyObject[] = [];
    const unreachable: string[] = [];
    await Promise.all(
      [...this.#vaults].map(async ([name, { vault, isUp }]) => {
        if (!isUp()) return unreachable.push(name);
        try {
          objects.push(...inVault(name, await vault.listKeyObjects()));
        } catch (error) {
          if (!(error instanceof HsmUnavailable) || isUp()) throw error;
          unreachable.push(name);
        }
        return undefined;
      }),
    );
    return { objects, unreachable: unreachable.sort() };
  }

  /** The vaults whose token does not answer now; none for one vault alone, whose readiness is that of its token. */
  unreachableVaults(): string[] {
    if (this.#vaults.size === 1) return [];
    return [...this.#vaults].filter(([, { isUp }]) => !isUp()).map(([name]) => name);
  }

  // Issue 25's records on the token, per vault: a version's permanent state lies beside its key, in its vault; the
  // emergency block and the audit head lie in every vault, so an instance that reaches any one of its HSMs sees them.

  anchorState(ref: KeyVersionRef, state: KeyState, at: string): Promise<boolean> {
    return this.#route(ref).anchorState(ref, state, at);
  }

  /** The permanent states every vault that answers records (a vault that is down is read once it is up again). */
  async anchoredStates(): Promise<AnchoredState[]> {
    const lists = await Promise.all(this.#upVaults().map(async ([name, vault]) => (await vault.anchoredStates().catch(() => [])).map((s) => ({ ...s, ref: { ...s.ref, vault: name } }))));
    return lists.flat();
  }

  /**
   * Set: written in every vault that answers (false when one could not take it; the store's block holds anyway). Lift:
   * removed from every vault, and refused (the error) while one cannot be reached: its record would keep blocking.
   */
  async anchorEmergencyBlock(block: EmergencyBlock | undefined): Promise<boolean> {
    if (block === undefined) return (await Promise.all([...this.#vaults.values()].map(({ vault }) => vault.anchorEmergencyBlock(undefined)))).every(Boolean);
    const written = await Promise.all(this.#upVaults().map(([, vault]) => vault.anchorEmergencyBlock(block).catch(() => false)));
    return written.length === this.#vaults.size && written.every(Boolean);
  }

  /** The block as any vault that answers records it. */
  async anchoredEmergencyBlock(): Promise<EmergencyBlock | undefined> {
    const blocks = await Promise.all(this.#upVaults().map(([, vault]) => vault.anchoredEmergencyBlock()));
    return blocks.find((block) => block !== undefined);
  }

  /** Written in every vault that answers; true when it moved in one. */
  async anchorAuditHead(head: AnchoredAuditHead): Promise<boolean> {
    return (await Promise.all(this.#upVaults().map(([, vault]) => vault.anchorAuditHead(head).catch(() => false)))).some(Boolean);
  }

  /** The furthest head any vault that answers records. */
  async anchoredAuditHead(): Promise<AnchoredAuditHead | undefined> {
    const heads = await Promise.all(this.#upVaults().map(([, vault]) => vault.anchoredAuditHead().catch(() => undefined)));
    return heads.reduce<AnchoredAuditHead | undefined>((furthest, head) => (head !== undefined && (furthest === undefined || head.seq > furthest.seq) ? head : furthest), undefined);
  }

  anchorProblem(): string | undefined {
    const problems = [...this.#vaults].flatMap(([name, { vault }]) => {
      const problem = vault.anchorProblem();
      return problem === undefined ? [] : [this.#vaults.size === 1 ? problem : `vault "${name}": ${problem}`];
    });
    return problems.length === 0 ? undefined : problems.join('; ');
  }

  #upVaults(): [string, KeyVault][] {
    return [...this.#vaults].filter(([, { isUp }]) => isUp()).map(([name, { vault }]) => [name, vault]);
  }

  #route(ref: KeyVersionRef): KeyVault {
    const name = ref.vault ?? this.#store?.findKey(ref.name)?.versions.find((v) => v.keyId === ref.keyId)?.vault ?? this.#default;
    return this.#vaults.get(name)?.vault ?? unavailableVault(`the version ${ref.name}/${ref.keyId} is in the vault "${name}", which this instance does not configure (DKE_VAULTS)`);
  }
}

/** A KeyVault whose every operation answers 503 with `detail` (a vault that could not be opened, or is not configured). */
export function unavailableVault(detail: string): KeyVault {
  return new Proxy({} as KeyVault, {
    get: () => () => Promise.reject(new HsmUnavailable(detail, 60)),
  });
}

function inVault(vault: string, objects: readonly TokenKeyObject[]): TokenKeyObject[] {
  return objects.map((o) => ({ ...o, ref: { ...o.ref, vault } }));
}
