import { spanMs } from '../keys/durations.js';
import { AdminRefused } from '../keys/errors.js';

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
