import { RequestInvalid } from '../keys/errors.js';
import type { AuditFilter } from '../keys/ports.js';
import { AUDIT_EXPORT_FORMATS, AUDIT_FILTERS, AUDIT_KINDS, AUDIT_OUTCOMES, type AuditExportFormat, type AuditFilterName, type AuditKind, type AuditOutcome } from '../keys/vocabulary.js';
import { parseSince } from './time-spans.js';

/** The filter words as a caller gave them: a query string's parameters, or the options of `dke audit`. */
export type AuditFilterWords = Readonly<Partial<Record<AuditFilterName, string | readonly string[]>>>;

/** How a front end names a word in its sentences: `"actor"` for the admin API, `--actor` for the CLI. */
export type Spelling = (word: string) => string;

/** Values of one repeatable filter at most; more is no investigation but a mistake. */
const MAX_VALUES = 50;
/** Characters of one value at most (a UPN and an oid fit with room). */
const MAX_VALUE_LENGTH = 256;

/**
 * The filter a caller's words select (vocabulary.ts AUDIT_FILTERS), checked the same way for the admin API and the
 * CLI: an unknown outcome or kind, a time that does not parse, a word given twice that is not repeatable, are refused
 * with a sentence that names the word as the caller spelt it.
 */
export function auditFilterFrom(words: AuditFilterWords, spell: Spelling, now = new Date()): AuditFilter {
  const values = (name: AuditFilterName): string[] => {
    const given = words[name];
    const list = given === undefined ? [] : typeof given === 'string' ? [given] : [...given];
    const repeatable = AUDIT_FILTERS.find((filter) => filter.name === name)!.repeatable;
    if (!repeatable && list.length > 1) throw new RequestInvalid(`${spell(name)} must be given once.`);
    if (list.length > MAX_VALUES) throw new RequestInvalid(`${spell(name)} takes at most ${MAX_VALUES} values.`);
    for (const value of list) {
      if (value.trim() === '' || value.length > MAX_VALUE_LENGTH) throw new RequestInvalid(`${spell(name)} takes a text of 1 to ${MAX_VALUE_LENGTH} characters.`);
    }
    return list;
  };
  const oneOf = <T extends string>(name: AuditFilterName, list: readonly T[], value: string): T => {
    if (!(list as readonly string[]).includes(value)) throw new RequestInvalid(`${spell(name)} must be ${wordsList(list)}, not "${value.slice(0, 40)}".`);
    return value as T;
  };
  const [kind] = values('kind');
  const [since] = values('since');
  const [until] = values('until');
  const list = (name: AuditFilterName): string[] | undefined => {
    const given = values(name);
    return given.length > 0 ? given : undefined;
  };
  const actors = list('actor');
  const keyNames = list('key');
  const actions = list('action');
  const outcomes = list('outcome')?.map((value) => oneOf<AuditOutcome>('outcome', AUDIT_OUTCOMES, value));
  return {
    ...(actors ? { actors } : {}),
    ...(keyNames ? { keyNames } : {}),
    ...(actions ? { actions } : {}),
    ...(outcomes ? { outcomes } : {}),
    ...(kind !== undefined ? { kind: oneOf<AuditKind>('kind', AUDIT_KINDS, kind) } : {}),
    ...(since !== undefined ? { since: parseSince(since, spell('since'), now) } : {}),
    ...(until !== undefined ? { until: parseSince(until, spell('until'), now) } : {}),
  };
}

/** `format`: one of AUDIT_EXPORT_FORMATS. */
export function exportFormatFrom(value: string, spell: Spelling): AuditExportFormat {
  if (!(AUDIT_EXPORT_FORMATS as readonly string[]).includes(value)) throw new RequestInvalid(`${spell('format')} must be ${wordsList(AUDIT_EXPORT_FORMATS)}, not "${value.slice(0, 40)}".`);
  return value as AuditExportFormat;
}

/** A whole number from `min` to `max` (a page size, an entry number). */
export function wholeNumberFrom(value: string, word: string, min: number, max: number): number {
  const number = Number(value);
  if (!/^\d{1,15}$/.test(value) || number < min || number > max) throw new RequestInvalid(`${word} must be a whole number from ${min} to ${max}.`);
  return number;
}

function wordsList(words: readonly string[]): string {
  return words.length === 1 ? words[0]! : `${words.slice(0, -1).join(', ')} or ${words.at(-1)!}`;
}
