import type { AuditEntry } from '../keys/ports.js';
import type { AuditExportFormat } from '../keys/vocabulary.js';

/** The columns of a CSV export, in order: every field of an entry (details as its JSON text). */
export const AUDIT_CSV_COLUMNS = ['seq', 'at', 'actor', 'action', 'keyName', 'keyId', 'outcome', 'reason', 'details', 'prevHash', 'hash'] as const;

/** How each format is sent and named. */
export const AUDIT_EXPORT_TYPES: Readonly<Record<AuditExportFormat, { readonly mediaType: string; readonly extension: string }>> = {
  jsonl: { mediaType: 'application/jsonl; charset=utf-8', extension: 'jsonl' },
  csv: { mediaType: 'text/csv; charset=utf-8', extension: 'csv' },
};

/** The file name an export is offered as, stamped with the time it was made (`dke-audit-20261206T103000Z.csv`). */
export function auditExportFileName(format: AuditExportFormat, now: Date): string {
  return `dke-audit-${now.toISOString().replace(/[-:]/g, '').replace(/\.\d+/, '')}.${AUDIT_EXPORT_TYPES[format].extension}`;
}

/** What comes before the first entry: the CSV header row; nothing for JSON lines. */
export function auditExportHead(format: AuditExportFormat): string {
  return format === 'csv' ? `${AUDIT_CSV_COLUMNS.join(',')}\r\n` : '';
}

/**
 * One entry as one line of the export, read back into the same entry: JSON lines hold the entry as the admin API
 * answers it; CSV cells follow RFC 4180, where an empty cell is a field the entry does not have and `""` an empty
 * text. A cell a spreadsheet would run as a formula (starting with = + - @, a tab or a carriage return) is written
 * with a leading apostrophe, and so is a cell that starts with one, so a reader drops exactly one leading apostrophe.
 */
export function auditExportLine(entry: AuditEntry, format: AuditExportFormat): string {
  if (format === 'jsonl') return `${JSON.stringify(entry)}\n`;
  const cells = AUDIT_CSV_COLUMNS.map((column) => {
    const value = entry[column];
    if (value === undefined) return '';
    return csvCell(typeof value === 'object' ? JSON.stringify(value) : String(value));
  });
  return `${cells.join(',')}\r\n`;
}

function csvCell(text: string): string {
  const safe = /^['=+\-@\t\r]/.test(text) ? `'${text}` : text;
  return safe === '' || /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}
