import type { AuditEntry } from '../../src/keys/ports.js';

/** One CSV cell as written: its text, and whether it was quoted (`""` is an empty text, an empty cell no field). */
interface Cell {
  readonly text: string;
  readonly quoted: boolean;
}

/**
 * Reads a CSV audit export back into entries, as a reader of the documented format would (RFC 4180; an unquoted empty
 * cell is a field the entry does not have; one leading apostrophe guards a cell against spreadsheets and is dropped;
 * `seq` is a number and `details` JSON text). Written here, apart from the service's writer, so a round trip through
 * it tests the format and not the writer against itself.
 */
export function entriesFromCsv(text: string): AuditEntry[] {
  const [header, ...rows] = csvRows(text);
  const columns = header!.map((cell) => cell.text);
  return rows.map((row) => {
    assertSameLength(row, columns);
    const entry: Record<string, unknown> = {};
    row.forEach((cell, i) => {
      if (!cell.quoted && cell.text === '') return;
      const value = cell.text.startsWith("'") ? cell.text.slice(1) : cell.text;
      const column = columns[i]!;
      entry[column] = column === 'seq' ? Number(value) : column === 'details' ? JSON.parse(value) : value;
    });
    return entry as unknown as AuditEntry;
  });
}

function assertSameLength(row: readonly Cell[], columns: readonly string[]): void {
  if (row.length !== columns.length) throw new Error(`a row of ${row.length} cells under ${columns.length} columns: ${JSON.stringify(row)}`);
}

/** RFC 4180 rows: cells split by commas, rows by CRLF, quotes doubled inside quoted cells. */
function csvRows(text: string): Cell[][] {
  const rows: Cell[][] = [];
  let row: Cell[] = [];
  let at = 0;
  while (at < text.length) {
    let cell = '';
    const quoted = text[at] === '"';
    if (quoted) {
      at += 1;
      for (;;) {
        const quote = text.indexOf('"', at);
        if (quote < 0) throw new Error('a quoted cell does not end');
        cell += text.slice(at, quote);
        at = quote + 1;
        if (text[at] !== '"') break;
        cell += '"';
        at += 1;
      }
    } else {
      const end = text.slice(at).search(/[,\r\n]/);
      cell = end < 0 ? text.slice(at) : text.slice(at, at + end);
      at += cell.length;
    }
    row.push({ text: cell, quoted });
    if (text[at] === ',') {
      at += 1;
      continue;
    }
    if (!text.startsWith('\r\n', at)) throw new Error(`a row does not end with CRLF at ${at}`);
    at += 2;
    rows.push(row);
    row = [];
  }
  return rows;
}
