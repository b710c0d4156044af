import { useState } from 'preact/hooks';
import { api } from '../api';
import { DataTable, Badge, ErrorText, Loading, Time, useLoad } from '../ui';
import type { AuditEntryView as AuditEntry, AuditVerificationView } from '../vocabulary';

/** The newest entries the page reads at once; the filters narrow them further. */
const READ_LIMIT = 2000;

interface Filters {
  readonly key: string;
  readonly actor: string;
  readonly action: string;
  readonly from: string;
  readonly to: string;
}

const NO_FILTERS: Filters = { key: '', actor: '', action: '', from: '', to: '' };

/** The key and the start time go to the admin API; actor, action and the end narrow what it answered. */
export function matches(entry: AuditEntry, filters: Filters): boolean {
  if (filters.actor !== '' && !entry.actor.toLowerCase().includes(filters.actor.toLowerCase())) return false;
  if (filters.action !== '' && entry.action !== filters.action) return false;
  if (filters.to !== '' && Date.parse(entry.at) > Date.parse(filters.to)) return false;
  return true;
}

export function AuditPage() {
  const [draft, setDraft] = useState<Filters>(NO_FILTERS);
  const [filters, setFilters] = useState<Filters>(NO_FILTERS);
  const verification = useLoad(() => api<AuditVerificationView>('GET', '/audit/verify').then((r) => r.body), []);
  const entries = useLoad(() => {
    const query = new URLSearchParams({ limit: String(READ_LIMIT) });
    if (filters.key !== '') query.set('key', filters.key);
    if (filters.from !== '') query.set('since', new Date(filters.from).toISOString());
    return api<AuditEntry[]>('GET', `/audit?${query.toString()}`).then((r) => r.body);
  }, [filters.key, filters.from]);
  const shown = (entries.data ?? []).filter((e) => matches(e, filters)).reverse();
  const actions = [...new Set((entries.data ?? []).map((e) => e.action))].sort();
  const field = (name: keyof Filters) => ({
    value: draft[name],
    onInput: (e: Event) => setDraft({ ...draft, [name]: (e.target as HTMLInputElement).value }),
  });
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
          setFilters(draft);
        }}
      >
        <label>
          Key <input {...field('key')} />
        </label>
        <label>
          Actor <input {...field('actor')} />
        </label>
        <label>
          Action{' '}
          <select value={draft.action} onChange={(e) => setDraft({ ...draft, action: (e.target as HTMLSelectElement).value })}>
            <option value="">any</option>
            {actions.map((a) => (
              <option key={a} value={a}>
                {a}
              </option>
            ))}
          </select>
        </label>
        <label>
          From <input type="datetime-local" {...field('from')} />
        </label>
        <label>
          To <input type="datetime-local" {...field('to')} />
        </label>
        <button type="submit">Apply filters</button>
        <button
          type="button"
          onClick={() => {
            setDraft(NO_FILTERS);
            setFilters(NO_FILTERS);
          }}
        >
          Clear filters
        </button>
      </form>
      <ErrorText text={entries.error} />
      {entries.data === undefined && entries.error === undefined && <Loading what="the audit trail" />}
      {entries.data && (
        <>
          <p>
            {shown.length} entr{shown.length === 1 ? 'y' : 'ies'}, newest first{entries.data.length === READ_LIMIT ? ` (of the newest ${READ_LIMIT})` : ''}.
          </p>
          <DataTable label="Audit entries" columns={['#', 'When', 'Who', 'Action', 'Key', 'Outcome']} className="audit">
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
                  </tr>
                ))}
              </DataTable>
        </>
      )}
    </section>
  );
}
