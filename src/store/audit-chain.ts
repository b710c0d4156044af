import { createHash } from 'node:crypto';

/** One stored audit entry as its row holds it. */
export interface AuditRow {
  seq: number;
  at: string;
  entry: string;
  prev_hash: string;
  hash: string;
}

/** Checks links, hashes and numbering from an anchor (the genesis hash, or the last archived entry). */
export function verifyChain(rows: readonly AuditRow[], anchorSeq: number, anchorHash: string): { brokenAt: number; problem: string } | undefined {
  let prevHash = anchorHash;
  let expectedSeq = anchorSeq + 1;
  for (const row of rows) {
    if (row.seq !== expectedSeq) return { brokenAt: expectedSeq, problem: `entry ${expectedSeq} is missing` };
    if (row.prev_hash !== prevHash) return { brokenAt: row.seq, problem: `entry ${row.seq} does not link to entry ${row.seq - 1}` };
    if (chainHash(prevHash, row.entry) !== row.hash || !entryMatchesRow(row)) return { brokenAt: row.seq, problem: `entry ${row.seq} was altered` };
    prevHash = row.hash;
    expectedSeq += 1;
  }
  return undefined;
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

