import { createHash } from 'node:crypto';
import type { AuditEvent } from '../keys/ports.js';

/** One entry to append: `at` is the time the decision was made (stamped when it was queued). */
export interface QueuedEntry {
  at: string;
  readonly event: AuditEvent;
}

/** One stored audit entry as its row holds it. */
export interface AuditRow {
  seq: number;
  at: string;
  entry: string;
  prev_hash: string;
  hash: string;
}

/** Where a chain breaks and why, as `dke audit verify` reports it. */
export interface ChainBreak {
  readonly brokenAt: number;
  readonly problem: string;
}

/**
 * Checks links, hashes and numbering from an anchor (the genesis hash, or the last archived entry), over rows given
 * in order a page at a time, so that a trail of any length is checked in bounded memory.
 */
export class ChainWalk {
  #prevHash: string;
  #expectedSeq: number;

  constructor(anchorSeq: number, anchorHash: string) {
    this.#prevHash = anchorHash;
    this.#expectedSeq = anchorSeq + 1;
  }

  /** The next rows of the chain, continuing the ones before: the first break among them, or undefined. */
  next(rows: readonly AuditRow[]): ChainBreak | undefined {
    for (const row of rows) {
      const expected = this.#expectedSeq;
      if (row.seq !== expected) return { brokenAt: expected, problem: `entry ${expected} is missing` };
      if (row.prev_hash !== this.#prevHash) return { brokenAt: row.seq, problem: `entry ${row.seq} does not link to entry ${row.seq - 1}` };
      if (chainHash(this.#prevHash, row.entry) !== row.hash || !entryMatchesRow(row)) return { brokenAt: row.seq, problem: `entry ${row.seq} was altered` };
      this.#prevHash = row.hash;
      this.#expectedSeq = expected + 1;
    }
    return undefined;
  }

  /** The last entry checked so far (the anchor before any). */
  get last(): { readonly seq: number; readonly hash: string } {
    return { seq: this.#expectedSeq - 1, hash: this.#prevHash };
  }
}

/** The whole of a (short) chain at once: see ChainWalk. */
export function verifyChain(rows: readonly AuditRow[], anchorSeq: number, anchorHash: string): ChainBreak | undefined {
  return new ChainWalk(anchorSeq, anchorHash).next(rows);
}

export function chainHash(prevHash: string, entry: string): string {
  return createHash('sha256').update(prevHash).update('\n').update(entry).digest('hex');
}

function entryMatchesRow(row: AuditRow): boolean {
  try {
    const parsed = JSON.parse(row.entry) as { seq: number; at: string };
    return parsed.seq === row.seq && parsed.at === row.at;
  } catch {
    return false;
  }
}

/** The JSON an entry is stored and hashed as: fixed keys in a fixed order, absent fields as null. */
export function canonicalEntry(seq: number, at: string, event: AuditEvent): string {
  return JSON.stringify({
    seq,
    at,
    actor: event.actor,
    action: event.action,
    keyName: event.keyName ?? null,
    keyId: event.keyId ?? null,
    outcome: event.outcome,
    reason: event.reason ?? null,
    details: event.details ?? null,
  });
}

/**
 * The rows that append `entries` after the head (`seq`, `hash`), each chained to the one before, and the new head.
 * Pure: every writer (Kysely on either engine, the embedded store's audit writer thread) stores exactly these.
 */
export function chainedRows(head: { readonly seq: number; readonly hash: string }, entries: readonly QueuedEntry[]): { rows: AuditRow[]; seq: number; hash: string } {
  let seq = head.seq;
  let prevHash = head.hash;
  const rows: AuditRow[] = [];
  for (const { at, event } of entries) {
    seq += 1;
    const entry = canonicalEntry(seq, at, event);
    const hash = chainHash(prevHash, entry);
    rows.push({ seq, at, entry, prev_hash: prevHash, hash });
    prevHash = hash;
  }
  return { rows, seq, hash: prevHash };
}

/**
 * Each version's latest successful decrypt among `entries` (contract §4 `lastUsedAt`), in name and key id order: every
 * writer takes version rows in one order, before the audit head (no lock-order deadlock on PostgreSQL).
 */
export function lastUses(entries: readonly QueuedEntry[]): { name: string; keyId: string; at: string }[] {
  const latest = new Map<string, { name: string; keyId: string; at: string }>();
  for (const { at, event } of entries) {
    if (event.action !== 'decrypt' || event.outcome !== 'allowed' || event.keyName === undefined || event.keyId === undefined) continue;
    const key = `${event.keyName}\u0000${event.keyId}`;
    const seen = latest.get(key);
    if (seen === undefined || seen.at < at) latest.set(key, { name: event.keyName, keyId: event.keyId, at });
  }
  return [...latest.values()].sort((a, b) => (a.name + a.keyId < b.name + b.keyId ? -1 : 1));
}
