import { Fragment } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, download } from '../api';
import { DataTable, Badge, ErrorText, Loading, Time, describe, useLoad } from '../ui';
import { AUDIT_FILTERS, AUDIT_OUTCOMES, type AuditEntryView as AuditEntry, type AuditExportFormat, type AuditFilterName, type AuditVerificationView } from '../vocabulary';

/** Entries per page; "Older entries" reads the next page from where this one ends. */
const PAGE_SIZE = 100;

/** The page's fields are the service's filter words (AUDIT_FILTERS); `since` and `until` hold the local time typed. */
type Filters = Readonly<Record<AuditFilterName, string>>;

const NO_FILTERS: Filters = { actor: '', key: '', action: '', outcome: '', kind: '', since: '', until: '' };

/** The query the service filters by: every field given, by its own word; times as the UTC instants they name. */
export function filterQuery(filters: Filters): URLSearchParams {
  const query = new URLSearchParams();
  for (const { name } of AUDIT_FILTERS) {
    const value = filters[name].trim();
    if (value === '') continue;
    query.set(name, name === 'since' || name === 'until' ? new Date(value).toISOString() : value);
  }
  return query;
}

/** The `before` of the next page, from the list's `Link: <…&before=SEQ>; rel="next"` header. */
function nextPage(link: string | null): string | undefined {
  const target = /<([^>]+)>;\s*rel="next"/.exec(link ?? '')?.[1];
  return target === undefined ? undefined : (new URL(target, location.origin).searchParams.get('before') ?? undefined);
}

interface Pages {
  readonly entries: AuditEntry[];
  readonly next?: string | undefined;
}

async function readPage(filters: Filters, before?: string): Promise<Pages> {
  const query = filterQuery(filters);
  query.set('limit', String(PAGE_SIZE));
  if (before !== undefined) query.set('before', before);
  const answer = await api<AuditEntry[]>('GET', `/audit?${query.toString()}`);
  return { entries: answer.body, next: nextPage(answer.headers.get('link')) };
}

export function AuditPage() {
  const [draft, setDraft] = useState<Filters>(NO_FILTERS);
  const [filters, setFilters] = useState<Filters>(NO_FILTERS);
  const [pages, setPages] = useState<Pages | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  const [seenActions, setSeenActions] = useState<string[]>([]);
  const verification = useLoad(() => api<AuditVerificationView>('GET', '/audit/verify').then((r) => r.body), []);

  // Only the answer of the latest filters is shown: a page of older entries, or a first page, that comes back after the
  // filters changed belongs to filters no longer on screen and would show entries outside them.
  const latestRead = useRef(0);
  const show = (read: Promise<Pages>, append: boolean): void => {
    const ticket = append ? latestRead.current : ++latestRead.current;
    read.then(
      (page) => {
        if (ticket !== latestRead.current) return;
        setError(undefined);
        setPages((shown) => (append && shown ? { entries: [...shown.entries, ...page.entries], next: page.next } : page));
        setSeenActions((seen) => [...new Set([...seen, ...page.entries.map((e) => e.action)])].sort());
      },
      (failure: unknown) => {
        if (ticket === latestRead.current) setError(describe(failure));
      },
    );
  };
  useEffect(() => {
    setPages(undefined);
    show(readPage(filters), false);
  }, [filters]);

  const exportAs = async (format: AuditExportFormat): Promise<void> => {
    try {
      const query = filterQuery(filters);
      query.set('format', format);
      const { blob, fileName } = await download(`/audit/export?${query.toString()}`);
      const link = document.createElement('a');
      link.href = URL.createObjectURL(blob);
      link.download = fileName;
      link.click();
      URL.revokeObjectURL(link.href);
    } catch (failure) {
      setError(describe(failure));
    }
  };
  const field = (name: AuditFilterName) => ({
    value: draft[name],
    onInput: (e: Event) => setDraft({ ...draft, [name]: (e.target as HTMLInputElement).value }),
  });
  const choice = (name: AuditFilterName) => ({
    value: draft[name],
    onChange: (e: Event) => setDraft({ ...draft, [name]: (e.target as HTMLSelectElement).value }),
  });
  const shown = pages?.entries ?? [];
  return (
    <section aria-labelledby="audit-title">
      <h1 id="audit-title">Audit trail</h1>
      <ErrorText text={verification.error} />
      {verification.data && (
        <p class="verification" role="status">
          {verification.data.ok ? (
            <>
              <Badge kind="pass">Chain verified</Badge> all {verification.data.entries} entries are intact and in order.
            </>
          ) : (
            <>
              <Badge kind="fail">Chain broken</Badge> at entry {verification.data.brokenAt ?? '?'}: {verification.data.problem}
            </>
          )}
        </p>
      )}
      <form
        class="filters"
        aria-label="Filter the audit trail"
        onSubmit={(e) => {
          e.preventDefault();
          // A new object each time: applying the same filters again reads the trail again.
          setFilters({ ...draft });
        }}
      >
        <label>
          Show{' '}
          <select {...choice('kind')}>
            <option value="">every entry</option>
            <option value="admin">admin actions only</option>
            <option value="decrypt">decrypt decisions only</option>
          </select>
        </label>
        <label>
          Key <input {...field('key')} />
        </label>
        <label>
          Actor <input {...field('actor')} />
        </label>
        <label>
          Action <input list="audit-actions" {...field('action')} />
          <datalist id="audit-actions">
            {seenActions.map((a) => (
              <option key={a} value={a} />
            ))}
          </datalist>
        </label>
        <label>
          Outcome{' '}
          <select {...choice('outcome')}>
            <option value="">any</option>
            {AUDIT_OUTCOMES.map((o) => (
              <option key={o} value={o}>
                {o}
              </option>
            ))}
          </select>
        </label>
        <label>
          From <input type="datetime-local" {...field('since')} />
        </label>
        <label>
          To <input type="datetime-local" {...field('until')} />
        </label>
        <button type="submit">Apply filters</button>
        <button
          type="button"
          onClick={() => {
            setDraft(NO_FILTERS);
            setFilters({ ...NO_FILTERS });
          }}
        >
          Clear filters
        </button>
      </form>
      <p class="exports">
        Export what the filters select, oldest first:{' '}
        <button type="button" onClick={() => void exportAs('jsonl')}>
          Export JSON lines
        </button>{' '}
        <button type="button" onClick={() => void exportAs('csv')}>
          Export CSV
        </button>
      </p>
      <ErrorText text={error} />
      {pages === undefined && error === undefined && <Loading what="the audit trail" />}
      {pages && (
        <>
          <p>
            {shown.length} entr{shown.length === 1 ? 'y' : 'ies'}, newest first{pages.next !== undefined ? '; older entries match too' : ''}.
          </p>
          <DataTable label="Audit entries" columns={['#', 'When', 'Who', 'Action', 'Key', 'Outcome', 'Details']} className="audit">
            {shown.map((e) => (
              <tr key={e.seq}>
                <td>{e.seq}</td>
                <td>
                  <Time at={e.at} />
                </td>
                <td class="wrap">{e.actor}</td>
                <td>{e.action}</td>
                <td>
                  {e.keyName ?? ''}
                  {e.keyId ? <code title={e.keyId}> {e.keyId.slice(0, 8)}</code> : null}
                </td>
                <td>
                  <Badge kind={`outcome-${e.outcome}`}>{e.outcome}</Badge>
                  {e.reason ? <span class="reason"> {e.reason}</span> : null}
                </td>
                <td class="wrap">
                  <EntryDetails entry={e} />
                </td>
              </tr>
            ))}
          </DataTable>
          {pages.next !== undefined && (
            <button type="button" onClick={() => show(readPage(filters, pages.next), true)}>
              Older entries
            </button>
          )}
        </>
      )}
    </section>
  );
}

/** Every field of one entry, as it is kept (who was granted what, from which state to which, its place in the chain). */
function EntryDetails({ entry }: { entry: AuditEntry }) {
  const facts = Object.entries(entry.details ?? {});
  const summary = facts.map(([name, value]) => `${name}: ${String(value)}`).join(', ');
  const rows: [string, string][] = [
    ['Entry', String(entry.seq)],
    ['Time (UTC)', entry.at],
    ['Actor', entry.actor],
    ['Action', entry.action],
    ...(entry.keyName !== undefined ? ([['Key', entry.keyName]] as [string, string][]) : []),
    ...(entry.keyId !== undefined ? ([['Version', entry.keyId]] as [string, string][]) : []),
    ['Outcome', entry.outcome],
    ...(entry.reason !== undefined ? ([['Reason', entry.reason]] as [string, string][]) : []),
    ...facts.map(([name, value]) => [name, String(value)] as [string, string]),
    ['Hash', entry.hash],
    ['Previous hash', entry.prevHash],
  ];
  return (
    <details>
      <summary>{summary === '' ? `Details of entry ${entry.seq}` : summary.length > 80 ? `${summary.slice(0, 77)}…` : summary}</summary>
      <dl class="entry-details">
        {rows.map(([name, value]) => (
          <Fragment key={name}>
            <dt>{name}</dt>
            <dd>{value}</dd>
          </Fragment>
        ))}
      </dl>
    </details>
  );
}
