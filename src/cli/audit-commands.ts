import { Command } from 'commander';
import { parseSince } from '../app/time-spans.js';
import { resolve } from 'node:path';
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
    .option('--archive <files...>', 'also check these archive files against the checkpoints kept in the store')
    .option('--json', 'print JSON')
    .action(async (options, command: Command) => {
      // `--json` after `verify` is parsed by the parent `audit` command, which has the same option.
      const json = command.optsWithGlobals().json === true;
      const result = await verifyAuditTrail(options.archive ?? []);
      print(json, result, () =>
        [
          result.ok
            ? `The audit trail is intact: ${result.entries} entries chained${result.anchor.seq > 0 ? ` after the ${result.anchor.seq} archived ones` : ''}, head ${result.head.seq} ${result.head.hash}.`
            : `The audit trail is BROKEN${result.brokenAt === undefined ? '' : ` at entry ${result.brokenAt}`}: ${result.problem}.`,
          ...('archives' in result && result.archives ? result.archives.map((a) => `${a.file}: ${a.ok ? `intact, entries ${a.first} to ${a.last}` : `BROKEN: ${a.problem}`}`) : []),
        ].join('\n'),
      );
      if (!result.ok) process.exitCode = EXIT_AUDIT_BROKEN;
    });
  audit
    .command('archive')
    .description('move entries older than TIME into a JSON Lines file with its own chain; the store keeps a checkpoint')
    .requiredOption('--before <time>', 'an ISO time, or a span back from now such as 90d')
    .requiredOption('--to <file>', 'the archive file to write (JSON Lines; must not exist)')
    .option('--json', 'print JSON')
    .action(async (options, command: Command) => {
      const json = command.optsWithGlobals().json === true;
      const before = parseSince(options.before, '--before');
      const result = await withAdmin(false, ({ admin }) => admin.archiveAudit(before, resolve(options.to)));
      print(json, result ?? { archived: 0 }, () =>
        result === undefined ? `No audit entry is older than ${before.toISOString()}; nothing was archived.` : `Archived entries ${result.first} to ${result.last} (${result.count}) into ${result.file}.`,
      );
    });
  return audit;
}
