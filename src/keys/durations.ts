const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/**
 * A span as operators write it (`45s`, `90m`, `24h`, `30d`) in ms, or undefined when it is not one. Used by the
 * deletion window, approval TTL and rotation periods, and by `--since`.
 */
export function spanMs(value: string): number | undefined {
  const span = /^(\d{1,9})([smhd])$/.exec(value.trim());
  return span ? Number(span[1]) * UNIT_MS[span[2] as keyof typeof UNIT_MS] : undefined;
}

/** A span in ms as operators write it, in its largest whole unit (`604800000` → `7d`, `90000` → `90s`; `0` → `0s`). */
export function spanWords(ms: number): string {
  for (const unit of ['d', 'h', 'm'] as const) if (ms > 0 && ms % UNIT_MS[unit] === 0) return `${ms / UNIT_MS[unit]}${unit}`;
  return `${Math.round(ms / 1000)}s`;
}
