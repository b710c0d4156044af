import { AdminRefused } from '../keys/errors.js';

const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** A span as operators write it (`90m`, `24h`, `30d`, `45s`) in ms, or undefined when it is not one. */
export function spanMs(value: string): number | undefined {
  const span = /^(\d{1,9})([smhd])$/.exec(value.trim());
  return span ? Number(span[1]) * UNIT_MS[span[2] as keyof typeof UNIT_MS] : undefined;
}

/** `--since` and `?since=`: an ISO time, or a span back from now (90m, 24h, 30d). */
export function parseSince(value: string, option = '--since', now = new Date()): Date {
  const span = spanMs(value);
  if (span !== undefined) return new Date(now.getTime() - span);
  const at = new Date(value);
  if (value.trim() === '' || Number.isNaN(at.getTime())) {
    throw new AdminRefused(`${option} takes an ISO time (2026-11-01T00:00:00Z) or a span such as 24h or 30d, not "${value}".`);
  }
  return at;
}
