import { KEY_STATES, type KeyState } from '../keys/key-version.js';
import { permanenceRank } from '../keys/lifecycle.js';
import type { AnchoredAuditHead, AnchoredState, EmergencyBlock, KeyVersionRef } from '../keys/ports.js';
import type { HsmConnection } from './hsm-connection.js';
import { TokenRecords } from './token-records.js';

const STATE_PREFIX = 'state:';
const BLOCK = 'emergency-block';
const AUDIT_HEAD = 'audit-head';

/**
 * The records of issue 25 on one token (contract §5, "the HSM anchors what must never be undone"): one record per
 * permanent state of a version (`state:<name>/<keyId>:<state>`, never removed), the emergency block while it is set,
 * and the audit head, replaced only by a later one. What the values mean is the application's (src/app/token-anchor.ts).
 */
export class TokenAnchors {
  readonly #records: TokenRecords;

  constructor(connection: HsmConnection) {
    this.#records = new TokenRecords(connection);
  }

  problem(): string | undefined {
    const kind = this.#records.kind;
    return kind === undefined || typeof kind === 'string'
      ? undefined
      : `${kind.refused}: permanent states, the emergency block and the audit head are not anchored on the token`;
  }

  recordState(ref: KeyVersionRef, state: KeyState, at: string): Promise<boolean> {
    return this.#records.write(`${STATE_PREFIX}${ref.name}/${ref.keyId}:${state}`, { name: ref.name, keyId: ref.keyId, state, at });
  }

  async states(): Promise<AnchoredState[]> {
    const furthest = new Map<string, AnchoredState>();
    for (const { value } of await this.#records.list(STATE_PREFIX)) {
      const anchored = asAnchoredState(value);
      if (anchored === undefined) continue;
      const key = `${anchored.ref.name}\u0000${anchored.ref.keyId}`;
      const known = furthest.get(key);
      // A version's furthest recorded state is the one that holds.
      if (known === undefined || permanenceRank(anchored.state) > permanenceRank(known.state)) furthest.set(key, anchored);
    }
    return [...furthest.values()];
  }

  recordBlock(block: EmergencyBlock | undefined): Promise<boolean> {
    return block === undefined ? this.#records.remove(BLOCK) : this.#records.replace(BLOCK, { since: block.since, by: block.by });
  }

  async block(): Promise<EmergencyBlock | undefined> {
    for (const value of await this.#records.read(BLOCK)) {
      if (isRecord(value) && typeof value.since === 'string' && typeof value.by === 'string') return { since: value.since, by: value.by };
    }
    return undefined;
  }

  /** Only forward: a head at or behind the recorded one is not written (a restored trail never moves it back). */
  async recordAuditHead(head: AnchoredAuditHead): Promise<boolean> {
    const recorded = await this.auditHead();
    if (recorded !== undefined && recorded.seq >= head.seq) return false;
    return this.#records.replace(AUDIT_HEAD, { seq: head.seq, hash: head.hash, at: head.at });
  }

  /** The furthest head recorded (two instances writing at once may leave two records until the next write). */
  async auditHead(): Promise<AnchoredAuditHead | undefined> {
    let furthest: AnchoredAuditHead | undefined;
    for (const value of await this.#records.read(AUDIT_HEAD)) {
      if (!isRecord(value) || typeof value.seq !== 'number' || typeof value.hash !== 'string' || typeof value.at !== 'string') continue;
      if (furthest === undefined || value.seq > furthest.seq) furthest = { seq: value.seq, hash: value.hash, at: value.at };
    }
    return furthest;
  }
}

function asAnchoredState(value: unknown): AnchoredState | undefined {
  if (!isRecord(value) || typeof value.name !== 'string' || typeof value.keyId !== 'string' || typeof value.at !== 'string') return undefined;
  const state = KEY_STATES.find((s) => s === value.state);
  return state === undefined || permanenceRank(state) === 0 ? undefined : { ref: { name: value.name, keyId: value.keyId }, state, at: value.at };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}
