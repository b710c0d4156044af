import { once } from 'node:events';
import { resolve } from 'node:path';
import { Command, type OptionValues } from 'commander';
import { auditExportHead, auditExportLine } from '../app/audit-export.js';
import { auditFilterFrom, exportFormatFrom, wholeNumberFrom, type AuditFilterWords } from '../app/audit-filter-words.js';
import type { AuditEntryView } from '../app/admin-shapes.js';
import { AUDIT_EXPORT_FORMATS, AUDIT_FILTERS, RequestInvalid, type AuditExportFormat } from '../app/admin-vocabulary.js';
import { parseSince } from '../app/time-spans.js';
import { auditJournalCommand } from './audit-journal-commands.js';
import { verifyAuditTrailHere, withAdminHere } from './remote/remote-admin.js';
import { EXIT_AUDIT_BROKEN } from './exit-codes.js';
import { collect } from './options.js';
import { print } from './output.js';

/** The largest page `--limit` asks for (the admin API's too); without it `dke audit` prints every matching entry. */
const LIMIT_MAX = 1_000_000;

/**
 * `dke audit` with the filters of the admin API (vocabulary.ts AUDIT_FILTERS: `--actor`, `--key`, `--action`,
 * `--outcome`, `--kind`, `--since`, `--until`), newest first, in pages (`--limit`, `--before-seq`), or exported as
 * JSON lines or CSV (`--format`); `dke audit verify` and `dke audit archive` (contract §3; issues 4, 17, 27).
 */
export function auditCommand(): Command {
  const audit = new Command('audit').description('every admin action and decrypt decision, append-only and hash-chained; newest first');
  for (const filter of AUDIT_FILTERS) {
    if (filter.repeatable) audit.option(`--${filter.name} <value>`, `${filter.about} (repeatable: any of them)`, collect);
    else audit.option(`--${filter.name} <value>`, filter.about);
  }
  audit
    .option('--admin-only', 'admin actions only, no decrypt decisions (as --kind admin)')
    // Not `--before`: the parent's options are also read after `audit archive`, whose --before is a time.
    .option('--before-seq <seq>', 'only entries numbered below SEQ: the next page, from the number a page ends with')
    .option('--limit <count>', 'at most this many entries, the newest (default: every matching entry)')
    .option('--format <format>', `export every matching entry, oldest first, to stdout as ${AUDIT_EXPORT_FORMATS.join(' or ')}`)
    .option('--json', 'print JSON')
    .action(async (options: OptionValues) => {
      const filter = auditFilterFrom(filterWords(options), (word) => `--${word}`);
      if (options.format !== undefined) {
        const format = exportFormatFrom(String(options.format), (word) => `--${word}`);
        for (const excluded of ['json', 'limit', 'beforeSeq'] as const) {
          if (options[excluded] !== undefined) throw new RequestInvalid(`--format exports every matching entry; narrow it with the filters (--since, --until …), not with ${optionName(excluded)}.`);
        }
        await withAdminHere(false, ({ admin }) => writeExport(admin.auditExport(filter), format));
        return;
      }
      const paging = {
        ...(options.limit !== undefined ? { limit: wholeNumberFrom(String(options.limit), '--limit', 1, LIMIT_MAX) } : {}),
        ...(options.beforeSeq !== undefined ? { beforeSeq: wholeNumberFrom(String(options.beforeSeq), '--before-seq', 1, Number.MAX_SAFE_INTEGER) } : {}),
      };
      const { entries, next } = await withAdminHere(false, ({ admin }) => admin.auditPage(filter, paging));
      print(options.json === true, entries, () => {
        const lines = entries.map(
          (e) => `${e.seq} ${e.at} ${e.actor} ${e.action} ${e.keyName ?? '-'}/${e.keyId ?? '-'} ${e.outcome}${e.reason ? ` (${e.reason})` : ''}${e.details ? ` ${JSON.stringify(e.details)}` : ''}`,
        );
        // The instants of this page, not a span the next command would count back from a later "now".
        const range = `${filter.since !== undefined ? ` --since ${filter.since.toISOString()}` : ''}${filter.until !== undefined ? ` --until ${filter.until.toISOString()}` : ''}`;
        if (next !== undefined) lines.push(`Older entries match: add --before-seq ${next}${range}.`);
        return lines.join('\n') || 'No audit entries match.';
      });
    });
  audit
    .command('verify')
    .description('check the hash chain against its head: an edited, removed, reordered or truncated entry is reported (exit 4)')
    .option('--archive <files...>', 'also check these archive files against the checkpoints kept in the store')
    .option('--json', 'print JSON')
    .action(async (options, command: Command) => {
      // `--json` after `verify` is parsed by the parent `audit` command, which has the same option.
      const json = command.optsWithGlobals().json === true;
      const result = await verifyAuditTrailHere(options.archive ?? []);
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
      const result = await withAdminHere(false, ({ admin }) => admin.archiveAudit(before, resolve(options.to)));
      print(json, result ?? { archived: 0 }, () =>
        result === undefined ? `No audit entry is older than ${before.toISOString()}; nothing was archived.` : `Archived entries ${result.first} to ${result.last} (${result.count}) into ${result.file}.`,
      );
    });
  audit.addCommand(auditJournalCommand());
  return audit;
}

/** The filter options as the words of AUDIT_FILTERS; `--admin-only` is `--kind admin`. */
function filterWords(options: OptionValues): AuditFilterWords {
  const words: Record<string, string | string[]> = {};
  for (const { name } of AUDIT_FILTERS) if (options[name] !== undefined) words[name] = options[name] as string | string[];
  if (options.adminOnly === true) {
    if (words.kind !== undefined && words.kind !== 'admin') throw new RequestInvalid(`--admin-only and --kind ${String(words.kind)} contradict each other.`);
    words.kind = 'admin';
  }
  return words;
}

function optionName(key: string): string {
  return `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

/** Writes an export to stdout as it is read, waiting for a slow reader (a pipe) to take each batch. */
async function writeExport(entries: AsyncIterable<AuditEntryView>, format: AuditExportFormat): Promise<void> {
  let buffered = auditExportHead(format);
  for await (const entry of entries) {
    buffered += auditExportLine(entry, format);
    if (buffered.length < 65_536) continue;
    if (!process.stdout.write(buffered)) await once(process.stdout, 'drain');
    buffered = '';
  }
  process.stdout.write(buffered);
}
