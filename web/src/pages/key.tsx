import { useState } from 'preact/hooks';
import { api, path } from '../api';
import { DecryptChart } from '../chart';
import { impactLines, loadImpact, PROPOSED_LINE, waitsForApproval } from '../impact';
import { DataTable, ConfirmDialog, ErrorText, Loading, StatusBadge, Time, describe, shortId, useLoad, type ConfirmRequest } from '../ui';
import {
  canToggleEnabled,
  DELETED_STATE,
  deletableIn,
  hasObjectsInToken,
  isDeletion,
  isPermanentTransition,
  isServed,
  settableFrom,
  stateLabel,
  statusLabel,
  type AdminPolicyView,
  type AttestationSummary,
  type DecryptActivity,
  type EmergencyBlockView,
  type GrantField,
  type GrantKind,
  type KeyState,
  type KeyVersionView,
  type KeyView,
  type Proposed,
  type VersionSummary,
} from '../vocabulary';
import { LabelUrl } from './keys';

/** The grant form's kinds: the body field that names one (`{"user": …}`) and the allow list it lands in. */
const GRANT_KINDS: readonly { readonly kind: GrantField; readonly list: GrantKind; readonly label: string }[] = [
  { kind: 'user', list: 'users', label: 'User (object id or UPN)' },
  { kind: 'group', list: 'groups', label: 'Group (object id)' },
  { kind: 'role', list: 'roles', label: 'App role' },
];

/** "6 d 23 h" until the version's HSM objects are destroyed. */
export function countdown(destroyAt: string, now = Date.now()): string {
  const ms = Date.parse(destroyAt) - now;
  if (ms <= 0) return 'due now';
  const hours = Math.floor(ms / 3_600_000);
  const minutes = Math.floor((ms % 3_600_000) / 60_000);
  return hours >= 24 ? `${Math.floor(hours / 24)} d ${hours % 24} h` : `${hours} h ${minutes} min`;
}

export function KeyPage(props: { name: string; labelBase: string; canChange: boolean; policy: AdminPolicyView | undefined; block: EmergencyBlockView | undefined }) {
  const { name, labelBase, canChange, policy, block } = props;
  // Reloaded when the emergency block changes: every status says so.
  const key = useLoad(() => api<KeyView>('GET', path('keys', name)).then((r) => r.body), [name, block?.blocked]);
  const activity = useLoad(() => api<DecryptActivity>('GET', `${path('keys', name)}/activity`).then((r) => r.body.days), [name]);
  const attestation = useLoad(() => api<AttestationSummary>('GET', `${path('keys', name)}/attestation`).then((r) => r.body), [name]);
  const [notice, setNotice] = useState<string>();
  const [error, setError] = useState<string>();
  const [confirming, setConfirming] = useState<ConfirmRequest>();

  /** Runs a change, then says what happened (applied, or waiting for a second admin) and reloads the page's data. */
  const change = async (what: string, method: 'POST' | 'PUT' | 'DELETE', route: string, body?: unknown): Promise<void> => {
    setError(undefined);
    const answer = await api<Partial<Proposed & VersionSummary>>(method, route, body);
    setNotice(
      answer.status === 202 && answer.body.approval
        ? `${what}: proposed, waiting for another admin's approval (proposal ${answer.body.approval.id}).`
        : `${what}: done.${answer.body.notice ? ` ${answer.body.notice}` : ''}`,
    );
    key.reload();
    attestation.reload();
  };
  const attempt = (what: string, method: 'POST' | 'PUT' | 'DELETE', route: string, body?: unknown): void => {
    change(what, method, route, body).catch((e: unknown) => setError(describe(e)));
  };

  /**
   * Irreversible steps ask first, with the impact preview the service computes from the audit trail (the approver sees
   * the same), and say when the step will only be proposed.
   */
  const confirmPermanent = async (version: KeyVersionView, to: KeyState): Promise<void> => {
    setError(undefined);
    try {
      const preview = await loadImpact(name, version.keyId, to);
      const verb = isDeletion(to) ? 'Delete' : `Make ${stateLabel(to)}`;
      const proposed = waitsForApproval(policy);
      setConfirming({
        title: `${verb}: version ${shortId(version.keyId)} of ${name}?`,
        lines: [...impactLines(preview), ...(proposed ? [PROPOSED_LINE] : [])],
        confirmLabel: `${proposed ? 'Propose: ' : ''}${verb} version ${shortId(version.keyId)}`,
        run: () =>
          isDeletion(to)
            ? change(`Delete of ${shortId(version.keyId)}`, 'DELETE', path('keys', name, 'versions', version.keyId))
            : change(`${stateLabel(to)} for ${shortId(version.keyId)}`, 'POST', `${path('keys', name, 'versions', version.keyId)}/state`, { state: to }),
      });
    } catch (e) {
      setError(describe(e));
    }
  };

  const setState = (version: KeyVersionView, to: KeyState): void => {
    if (isPermanentTransition(to)) void confirmPermanent(version, to);
    else attempt(`${stateLabel(to)} for ${shortId(version.keyId)}`, 'POST', `${path('keys', name, 'versions', version.keyId)}/state`, { state: to });
  };

  const data = key.data;
  return (
    <section aria-labelledby="key-title">
      <p>
        <a href="#/keys">← All keys</a>
      </p>
      <h1 id="key-title">{name}</h1>
      {!canChange && <p class="note">You have read access (DKE.Auditor): actions are shown, not available.</p>}
      <ErrorText text={key.error ?? error} />
      <p class="status" role="status">
        {notice ?? ''}
      </p>
      {data === undefined && key.error === undefined && <Loading what="the key" />}
      {data && (
        <>
          <p>
            Status: <StatusBadge status={data.status} until={data.statusUntil} />
          </p>
          <p class="url">
            Label URL: <LabelUrl base={labelBase} keyView={data} />
          </p>
          <div class="actions">
            <button type="button" class="action" disabled={!canChange} onClick={() => attempt('Rotation', 'POST', `${path('keys', name)}/rotate`)}>
              Rotate: new published version
            </button>
          </div>
          <h2>Versions</h2>
          <DataTable label={`Versions of ${name}`} columns={['Key id', 'Status', 'Vault', 'Created', 'Last use', 'Deletion', 'Actions']}>
                {[...data.versions].reverse().map((version) => (
                  <VersionRow key={version.keyId} version={version} canChange={canChange} onSetState={setState} onAttempt={attempt} name={name} />
                ))}
              </DataTable>
        </>
      )}
      <h2>Decrypts, last 30 days</h2>
      <ErrorText text={activity.error} />
      {activity.data ? <DecryptChart days={activity.data} keyName={name} /> : activity.error === undefined && <Loading what="the activity" />}
      <h2>Attestation</h2>
      <ErrorText text={attestation.error} />
      {attestation.data && (
        <ul class="plain">
          {attestation.data.versions.map((v) => (
            <li key={v.keyId}>
              <code title={v.keyId}>{shortId(v.keyId)}</code>: {v.verdict}
            </li>
          ))}
        </ul>
      )}
      {data && <Grants data={data} canChange={canChange} onAttempt={attempt} />}
      {data && <Rotation data={data} canChange={canChange} onAttempt={attempt} />}
      <ConfirmDialog request={confirming} onDone={() => setConfirming(undefined)} />
    </section>
  );
}

type Attempt = (what: string, method: 'POST' | 'PUT' | 'DELETE', route: string, body?: unknown) => void;

/** The state and Enabled flag behind a status, where the status alone does not name them ("Serving" is Active, Enabled). */
function VersionFacts({ version }: { version: KeyVersionView }) {
  const state = stateLabel(version.state);
  if (statusLabel({ status: version.status }) === state) return null;
  return (
    <span class="note">
      ({state}
      {version.enabled ? '' : ', disabled'})
    </span>
  );
}

function VersionRow({ name, version, canChange, onSetState, onAttempt }: { name: string; version: KeyVersionView; canChange: boolean; onSetState: (v: KeyVersionView, to: KeyState) => void; onAttempt: Attempt }) {
  const targets = settableFrom(version.state);
  const [to, setTo] = useState<KeyState | undefined>(targets[0]);
  const id = shortId(version.keyId);
  const base = path('keys', name, 'versions', version.keyId);
  const deletable = deletableIn(version.state) && version.deletion === undefined;
  return (
    <tr>
      <th scope="row">
        <code title={version.keyId}>{id}</code> {version.published && <span class="badge published">{isServed(version) ? 'Published' : 'Published, not served'}</span>}
      </th>
      <td>
        <StatusBadge status={version.status} until={version.statusUntil} /> <VersionFacts version={version} />
      </td>
      <td>{version.vault}</td>
      <td>
        <Time at={version.createdAt} />
      </td>
      <td>
        <Time at={version.lastUsedAt} />
      </td>
      <td>{version.deletion ? <span>destroyed in {countdown(version.deletion.destroyAt)}</span> : '—'}</td>
      <td>
        <div class="row-actions">
        {canToggleEnabled(version.state) && (
          <button type="button" class="action" disabled={!canChange} onClick={() => onAttempt(`${version.enabled ? 'Disable' : 'Enable'} ${id}`, 'POST', `${base}/${version.enabled ? 'disable' : 'enable'}`)}>
            {version.enabled ? 'Disable' : 'Enable'}
            <span class="sr-only"> version {id}</span>
          </button>
        )}
        {targets.length > 0 && (
          <span class="set-state">
            <label>
              <span class="sr-only">New state of version {id}</span>
              <select value={to} disabled={!canChange} class="action" onChange={(e) => setTo(targets.find((t) => t === (e.target as HTMLSelectElement).value))}>
                {targets.map((t) => (
                  <option key={t} value={t}>
                    {stateLabel(t)}
                  </option>
                ))}
              </select>
            </label>
            <button type="button" class="action" disabled={!canChange} onClick={() => to !== undefined && onSetState(version, to)}>
              Set state<span class="sr-only"> of version {id}</span>
            </button>
          </span>
        )}
        {deletable && (
          <button type="button" class="action danger" disabled={!canChange} onClick={() => onSetState(version, DELETED_STATE)}>
            Delete<span class="sr-only"> version {id}</span>
          </button>
        )}
        {version.deletion && hasObjectsInToken(version.state) && (
          <button type="button" class="action" disabled={!canChange} onClick={() => onAttempt(`Cancel deletion of ${id}`, 'POST', `${base}/cancel-deletion`)}>
            Cancel deletion<span class="sr-only"> of version {id}</span>
          </button>
        )}
        </div>
      </td>
    </tr>
  );
}

function Grants({ data, canChange, onAttempt }: { data: KeyView; canChange: boolean; onAttempt: Attempt }) {
  const [kind, setKind] = useState<'user' | 'group' | 'role'>('user');
  const [value, setValue] = useState('');
  const route = `${path('keys', data.name)}/grants`;
  const entries = GRANT_KINDS.flatMap((g) => data.allow[g.list].map((v) => ({ kind: g.kind, value: v })));
  return (
    <>
      <h2>Who may decrypt</h2>
      {entries.length === 0 ? (
        <p>Nobody yet.</p>
      ) : (
        <ul class="plain">
          {entries.map((g) => (
            <li key={`${g.kind}:${g.value}`}>
              {g.kind}: <code>{g.value}</code>{' '}
              <button type="button" class="action" disabled={!canChange} aria-label={`Revoke ${g.kind} ${g.value}`} onClick={() => onAttempt(`Revoke ${g.value}`, 'DELETE', route, { [g.kind]: g.value })}>
                Revoke
              </button>
            </li>
          ))}
        </ul>
      )}
      <form
        class="inline"
        onSubmit={(e) => {
          e.preventDefault();
          if (value.trim() === '') return;
          onAttempt(`Grant to ${value.trim()}`, 'PUT', route, { [kind]: value.trim() });
          setValue('');
        }}
      >
        <label>
          Kind{' '}
          <select class="action" disabled={!canChange} value={kind} onChange={(e) => setKind((e.target as HTMLSelectElement).value as typeof kind)}>
            {GRANT_KINDS.map((g) => (
              <option key={g.kind} value={g.kind}>
                {g.label}
              </option>
            ))}
          </select>
        </label>{' '}
        <label>
          Value <input class="action" disabled={!canChange} value={value} onInput={(e) => setValue((e.target as HTMLInputElement).value)} />
        </label>{' '}
        <button type="submit" class="action" disabled={!canChange}>
          Grant
        </button>
      </form>
    </>
  );
}

function Rotation({ data, canChange, onAttempt }: { data: KeyView; canChange: boolean; onAttempt: Attempt }) {
  const [every, setEvery] = useState(data.rotation?.every ?? '90d');
  const route = `${path('keys', data.name)}/rotation`;
  return (
    <>
      <h2>Rotation schedule</h2>
      <p>{data.rotation ? `A new version is published every ${data.rotation.every}.` : 'No scheduled rotation.'}</p>
      {data.rotation && (
        <p>
          Next rotation: {data.rotation.nextAt ? <Time at={data.rotation.nextAt} /> : 'none (no Active version to renew)'}
        </p>
      )}
      <form
        class="inline"
        onSubmit={(e) => {
          e.preventDefault();
          onAttempt(`Rotation every ${every}`, 'PUT', route, { every });
        }}
      >
        <label>
          Rotate every <input class="action short" disabled={!canChange} value={every} onInput={(e) => setEvery((e.target as HTMLInputElement).value)} />
        </label>{' '}
        <button type="submit" class="action" disabled={!canChange}>
          Set schedule
        </button>{' '}
        {data.rotation && (
          <button type="button" class="action" disabled={!canChange} onClick={() => onAttempt('Scheduled rotation off', 'DELETE', route)}>
            Turn off
          </button>
        )}
      </form>
    </>
  );
}
