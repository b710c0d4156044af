import type { AuditEntry, DecryptTally } from '../keys/ports.js';
import type { DecryptDay, RecentDecrypts } from './admin-shapes.js';

/** The console's chart (contract §7): decrypt decisions of one key name per UTC day, from the audit trail. */
export type { DecryptDay, RecentDecrypts };

const DAY_MS = 86_400_000;

/** The first instant of the oldest of `days` UTC days ending today: what to read from the audit trail. */
export function activityStart(now: Date, days: number): Date {
  const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  return new Date(today - (days - 1) * DAY_MS);
}

/** One row per day, oldest first, zero where nothing happened, so the chart's axis is the calendar. */
export function decryptsPerDay(entries: readonly AuditEntry[], now: Date, days: number): DecryptDay[] {
  const start = activityStart(now, days).getTime();
  const rows = Array.from({ length: days }, (_, i) => ({ date: new Date(start + i * DAY_MS).toISOString().slice(0, 10), allowed: 0, refused: 0 }));
  for (const entry of entries) {
    if (entry.action !== 'decrypt') continue;
    const index = Math.floor((Date.parse(entry.at) - start) / DAY_MS);
    const row = rows[index];
    if (row === undefined) continue;
    if (entry.outcome === 'allowed') row.allowed += 1;
    else row.refused += 1;
  }
  return rows;
}

/** The key list's "at a glance" covers this many days. */
export const RECENT_DAYS = 7;

/** One key name's decrypts in the tallies (the audit trail's, since activityStart(now, RECENT_DAYS)), refusals by reason. */
export function recentDecrypts(tallies: readonly DecryptTally[], name: string): RecentDecrypts {
  let allowed = 0;
  let refused = 0;
  const refusedByReason: Record<string, number> = {};
  for (const tally of tallies) {
    if (tally.keyName !== name) continue;
    if (tally.outcome === 'allowed') {
      allowed += tally.count;
      continue;
    }
    refused += tally.count;
    refusedByReason[tally.reason] = (refusedByReason[tally.reason] ?? 0) + tally.count;
  }
  return { days: RECENT_DAYS, allowed, refused, refusedByReason };
}
