import { Command } from 'commander';
import { AdminRefused } from '../app/admin-vocabulary.js';
import { withAdmin } from '../main/open-admin.js';
import { EXIT_AUDIT_BROKEN } from './exit-codes.js';
import { print } from './output.js';

/** `--since` as an ISO time or a span back from now: 90m, 24h, 30d. */
export function parseSince(value: string, now = new Date()): Date {
  const span = /^(\d+)([mhd])$/.exec(value.trim());
  if (span) {
    const unit = { m: 60_000, h: 3_600_000, d: 86_400_000 }[span[2] as 'm' | 'h' | 'd'];
    return new Date(now.getTime() - Number(span[1]) * unit);
  }
  const at = new Date(value);
  if (Number.isNaN(at.getTime())) throw new AdminRefused(`--since takes an ISO time (2026-11-01T00:00:00Z) or a span such as 24h or 30d, not "${value}".`);
  return at;
}

/** `dke audit [--since]` and `dke audit verify` (contract §3; issue 4). */
export function auditCommand(): Command {
  const audit = new Command('audit')
    .description('every admin action and decrypt decision, append-only and hash-chained')
    .option('--since <time>', 'only entries at or after this ISO time, or within a span such as 24h or 30d')
    .option('--json', 'print JSON')
    .action(async (options) => {
      const since = options.since === undefined ? undefined : parseSince(options.since);
      const entries = await withAdmin(false, ({ admin }) => admin.auditEntries(since));
      print(options.json === true, entries, () =>
        entries
          .map((e) => `${e.seq} ${e.at} ${e.actor} ${e.action} ${e.keyName ?? '-'}/${e.keyId ?? '-'} ${e.outcome}${e.reason ? ` (${e.reason})` : ''}${e.details ? ` ${JSON.stringify(e.details)}` : ''}`)
          .join('\n') || 'No audit entries.',
      );
    });
  audit
    .command('verify')
    .description('check the hash chain: a removed or edited entry is reported')
    .option('--json', 'print JSON')
    .action(async (options) => {
      const result = await withAdmin(false, ({ admin }) => admin.verifyAudit());
      print(options.json === true, result, () =>
        result.ok ? `The audit trail is intact: ${result.entries} entries chained.` : `The audit trail is BROKEN at entry ${result.brokenAt}: ${result.problem}.`,
      );
      if (!result.ok) process.exitCode = EXIT_AUDIT_BROKEN;
    });
  return audit;
}
