import { useState } from 'preact/hooks';
import { api } from '../api';
import { EmergencyEngage } from '../emergency';
import { DataTable, ErrorText, Loading, StatusBadge, Time, describe, shortId, useLoad } from '../ui';
import { isServed, type AdminPolicyView, type EmergencyBlockView, type KeyView, type RecentDecrypts, type VersionSummary } from '../vocabulary';

/** The URL a sensitivity label names for this key (Purview: "Use Double Key Encryption", DKE URL). */
export const labelUrl = (base: string, name: string): string => `${base}/${encodeURIComponent(name)}`;

/** The newest last use of any version (the audit trail's last successful decrypt). */
export const lastUse = (key: KeyView): string | undefined =>
  key.versions.map((v) => v.lastUsedAt).filter((at): at is string => at !== undefined).sort().at(-1);

/** The refusals' error codes (contract §1) in an admin's words; an unknown code is shown as it is. */
const REFUSAL_WORDS: Readonly<Record<string, string>> = {
  access_denied: 'not on the allow list',
  key_not_usable: 'version blocked',
  key_not_found: 'no such version',
  decrypt_failed: 'did not decrypt',
  hsm_unavailable: 'HSM unavailable',
  store_unavailable: 'audit not writable',
};

/** "3 refused: not on the allow list 2, version blocked 1". */
export function refusalsText(recent: RecentDecrypts): string {
  const reasons = Object.entries(recent.refusedByReason).map(([code, count]) => `${REFUSAL_WORDS[code] ?? code} ${count}`);
  return `${recent.refused} refused${reasons.length > 0 ? `: ${reasons.join(', ')}` : ''}`;
}

export function CopyButton({ text, label }: { text: string; label: string }) {
  const [copied, setCopied] = useState<string>();
  const copy = (): void => {
    navigator.clipboard.writeText(text).then(
      () => setCopied('Copied'),
      () => setCopied('Copy refused by the browser: select the URL and copy it'),
    );
  };
  return (
    <>
      <button type="button" aria-label={label} onClick={copy}>
        Copy
      </button>
      <span class="copied" role="status">
        {copied ?? ''}
      </span>
    </>
  );
}

/** The label URL, copyable only while GET answers it: a label naming a key that is not served protects nothing. */
export function LabelUrl({ base, keyView }: { base: string; keyView: KeyView }) {
  const url = labelUrl(base, keyView.name);
  return (
    <>
      <code>{url}</code>{' '}
      {isServed(keyView) ? <CopyButton text={url} label={`Copy the label URL of ${keyView.name}`} /> : <span class="note">not served now: this URL answers 404</span>}
    </>
  );
}

export function KeysPage(props: { labelBase: string; canChange: boolean; policy: AdminPolicyView | undefined; block: EmergencyBlockView | undefined; onBlockChanged: () => void }) {
  const { labelBase, canChange, policy, block, onBlockChanged } = props;
  // Reloaded when the switch changes: every key's status says so.
  const keys = useLoad(() => api<KeyView[]>('GET', '/keys').then((r) => r.body), [block?.blocked]);
  return (
    <section aria-labelledby="keys-title">
      <h1 id="keys-title">Keys</h1>
      <ErrorText text={keys.error} />
      {keys.data === undefined && keys.error === undefined && <Loading what="keys" />}
      {keys.data?.length === 0 && <p>No keys yet.</p>}
      {keys.data !== undefined && keys.data.length > 0 && (
        <DataTable label="Keys" columns={['Name', 'Status', 'Served version', 'Label URL', 'Decrypts, 7 days', 'Last use']}>
          {keys.data.map((key) => {
            const served = isServed(key) ? key.versions.find((v) => v.published) : undefined;
            return (
              <tr key={key.name}>
                <th scope="row">
                  <a href={`#/keys/${encodeURIComponent(key.name)}`}>{key.name}</a>
                </th>
                <td>
                  <StatusBadge status={key.status} until={key.statusUntil} />
                </td>
                <td>{served ? <code title={served.keyId}>{shortId(served.keyId)}</code> : <span>none served</span>}</td>
                <td class="url">
                  <LabelUrl base={labelBase} keyView={key} />
                </td>
                <td>{key.recentDecrypts && <span>{key.recentDecrypts.allowed} allowed, {refusalsText(key.recentDecrypts)}</span>}</td>
                <td>
                  <Time at={lastUse(key)} />
                </td>
              </tr>
            );
          })}
        </DataTable>
      )}
      <CreateKey canChange={canChange} onCreated={keys.reload} />
      <EmergencyEngage block={block} canChange={canChange} policy={policy} onChanged={onBlockChanged} />
    </section>
  );
}

/** A new key name: RSA-2048 generated in the HSM, Active and published, nobody allowed yet (grants on its page). */
function CreateKey({ canChange, onCreated }: { canChange: boolean; onCreated: () => void }) {
  const [name, setName] = useState('');
  const [notice, setNotice] = useState<string>();
  const [error, setError] = useState<string>();
  const create = (): void => {
    setError(undefined);
    setNotice(undefined);
    api<VersionSummary>('POST', '/keys', { name: name.trim() }).then(
      (answer) => {
        setNotice(`Created ${answer.body.name} (version ${shortId(answer.body.keyId)}): allow users on its page.`);
        setName('');
        onCreated();
      },
      (e: unknown) => setError(describe(e)),
    );
  };
  return (
    <>
      <h2>Create a key</h2>
      <form
        class="inline"
        onSubmit={(e) => {
          e.preventDefault();
          if (name.trim() !== '') create();
        }}
      >
        <label>
          Key name <input class="action" disabled={!canChange} value={name} onInput={(e) => setName((e.target as HTMLInputElement).value)} />
        </label>{' '}
        <button type="submit" class="action" disabled={!canChange}>
          Create key
        </button>
      </form>
      <p class="note">An RSA-2048 key generated inside the HSM, Active and published at once; nobody may decrypt until you allow them.</p>
      <ErrorText text={error} />
      <p class="status" role="status">
        {notice ?? ''}
      </p>
    </>
  );
}
