import type { Response } from 'express';
import { auditExportFileName, auditExportHead, auditExportLine, AUDIT_EXPORT_TYPES } from '../app/audit-export.js';
import { auditFilterFrom, exportFormatFrom, wholeNumberFrom, type AuditFilterWords } from '../app/audit-filter-words.js';
import type { KeyAdmin } from '../app/key-admin.js';
import { RequestInvalid } from '../keys/errors.js';
import { AUDIT_FILTERS } from '../keys/vocabulary.js';

/** Audit reads answer at most this many entries per page (the newest); `limit` may ask for fewer. */
export const AUDIT_LIMIT_MAX = 10_000;

/** The query words of each audit route besides the filters: paging for the list, the format for the export. */
export const AUDIT_PAGING_WORDS = ['before', 'limit'] as const;
export const AUDIT_EXPORT_WORDS = ['format'] as const;

/** A file sent as a download: its name, type and text, written as it is read. */
export interface FileAnswer {
  readonly status: 200;
  readonly file: { readonly name: string; readonly mediaType: string; readonly chunks: AsyncIterable<string> };
}

interface AuditCall {
  readonly admin: KeyAdmin;
  readonly query: Readonly<Record<string, unknown>>;
}

const quoted = (word: string): string => `"${word}"`;

/**
 * GET /admin/api/audit and /admin/api/audit/export (contract §6, issue 27): the filters of AUDIT_FILTERS applied by
 * the store; the list answers a page, newest first, with a `Link: <…&before=SEQ>; rel="next"` header while older
 * entries match; the export answers every matching entry, oldest first, as a JSON lines or CSV download.
 */
export const AUDIT_ROUTES = [
  {
    method: 'get',
    path: '/admin/api/audit',
    need: 'read',
    handle: async ({ admin, query }: AuditCall) => {
      const filter = auditFilterFrom(queryWords(query, AUDIT_PAGING_WORDS), quoted);
      const before = single(query, 'before');
      const limit = single(query, 'limit');
      const page = await admin.auditPage(filter, {
        limit: limit === undefined ? AUDIT_LIMIT_MAX : wholeNumberFrom(limit, quoted('limit'), 1, AUDIT_LIMIT_MAX),
        ...(before !== undefined ? { beforeSeq: wholeNumberFrom(before, quoted('before'), 1, Number.MAX_SAFE_INTEGER) } : {}),
      });
      const headers: Record<string, string> = page.next === undefined ? {} : { link: `<${nextPageUrl(query, filter, page.next)}>; rel="next"` };
      return { status: 200, body: page.entries, headers };
    },
  },
  {
    method: 'get',
    path: '/admin/api/audit/export',
    need: 'read',
    handle: async ({ admin, query }: AuditCall): Promise<FileAnswer> => {
      const filter = auditFilterFrom(queryWords(query, AUDIT_EXPORT_WORDS), quoted);
      const format = exportFormatFrom(single(query, 'format') ?? 'jsonl', quoted);
      const entries = admin.auditExport(filter);
      async function* chunks(): AsyncGenerator<string> {
        yield auditExportHead(format);
        for await (const entry of entries) yield auditExportLine(entry, format);
      }
      return { status: 200, file: { name: auditExportFileName(format, new Date()), mediaType: AUDIT_EXPORT_TYPES[format].mediaType, chunks: chunks() } };
    },
  },
] as const;

/**
 * Writes a download, in writes of about 64 KiB that wait for the client to take them. Nothing is sent before the first
 * write, so a store that cannot be read at once still answers its JSON error; a failure later can only cut the
 * connection (the file is then visibly incomplete: it does not end with a line break).
 */
export async function sendFile(res: Response, file: FileAnswer['file']): Promise<void> {
  const iterator = file.chunks[Symbol.asyncIterator]();
  const start = (): void => {
    res.status(200).set({ 'content-type': file.mediaType, 'content-disposition': `attachment; filename="${file.name}"`, 'cache-control': 'no-store' });
  };
  let started = false;
  let buffered = '';
  try {
    for (let step = await iterator.next(); step.done !== true; step = await iterator.next()) {
      buffered += step.value;
      if (buffered.length < 65_536) continue;
      if (!started) start();
      started = true;
      if (res.destroyed) {
        // The client went away while the store was read: stop reading it.
        await iterator.return?.();
        return;
      }
      // A client that goes away while this waits is seen before the next write, above.
      if (!res.write(buffered)) await drainedOrClosed(res);
      buffered = '';
    }
  } catch (error) {
    if (!started) throw error;
    res.destroy(error instanceof Error ? error : new Error(String(error)));
    return;
  }
  if (!started) start();
  res.end(buffered);
}

/** Until the response can take more, or is gone; both listeners go whichever comes (a long export waits many times). */
function drainedOrClosed(res: Response): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
    if (res.destroyed) done();
  });
}

/** The filter words of a query string; a word the route does not know is refused, so a typo never widens a read. */
function queryWords(query: Readonly<Record<string, unknown>>, others: readonly string[]): AuditFilterWords {
  const known = new Set<string>([...AUDIT_FILTERS.map((filter) => filter.name), ...others]);
  const unknown = Object.keys(query).filter((word) => !known.has(word));
  if (unknown.length > 0) throw new RequestInvalid(`Unknown query parameter ${quoted(unknown[0]!.slice(0, 40))}; this route takes ${[...known].map(quoted).join(', ')}.`);
  const words: Record<string, string | string[]> = {};
  for (const { name } of AUDIT_FILTERS) {
    const value = query[name];
    if (value === undefined) continue;
    if (typeof value !== 'string' && !(Array.isArray(value) && value.every((v) => typeof v === 'string'))) throw new RequestInvalid(`${quoted(name)} must be text.`);
    words[name] = value as string | string[];
  }
  return words;
}

function single(query: Readonly<Record<string, unknown>>, name: string): string | undefined {
  const value = query[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new RequestInvalid(`${quoted(name)} must be given once.`);
  return value;
}

/**
 * The same query with `before` moved to the next page, and `since`/`until` as the instants this page used: a span such
 * as `since=30d` would otherwise move with each page's "now" and drop the oldest entries of the range.
 */
function nextPageUrl(query: Readonly<Record<string, unknown>>, filter: { readonly since?: Date; readonly until?: Date }, next: number): string {
  const params = new URLSearchParams();
  for (const [word, value] of Object.entries(query)) {
    if (word !== 'before') for (const one of [value].flat()) params.append(word, String(one));
  }
  if (filter.since !== undefined) params.set('since', filter.since.toISOString());
  if (filter.until !== undefined) params.set('until', filter.until.toISOString());
  params.set('before', String(next));
  return `/admin/api/audit?${params.toString()}`;
}
