import { Command } from 'commander';
import { parseSince } from '../app/time-spans.js';
import { verifyAuditTrail, withAdmin } from '../main/open-admin.js';
import { EXIT_AUDIT_BROKEN } from './exit-codes.js';
import { print } from './output.js';

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
    .description('check the hash chain against its head: an edited, removed, reordered or truncated entry is reported (exit 4)')
    .option('--json', 'print JSON')
    .action(async (_options, command: Command) => {
      // `--json` after `verify` is parsed by the parent `audit` command, which has the same option.
      const json = command.optsWithGlobals().json === true;
      const result = await verifyAuditTrail();
      print(json, result, () =>
        result.ok
          ? `The audit trail is intact: ${result.entries} entries chained${result.anchor.seq > 0 ? ` after the ${result.anchor.seq} archived ones` : ''}, head ${result.head.seq} ${result.head.hash}.`
          : `The audit trail is BROKEN${result.brokenAt === undefined ? '' : ` at entry ${result.brokenAt}`}: ${result.problem}.`,
      );
      if (!result.ok) process.exitCode = EXIT_AUDIT_BROKEN;
    });
  return audit;
}
