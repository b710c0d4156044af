import { useState } from 'preact/hooks';
import { api } from '../api';
import { DataTable, EnabledBadge, ErrorText, Loading, StateBadge, Time, shortId, useLoad } from '../ui';
import type { KeyView } from '../vocabulary';

/** The URL a sensitivity label names for this key (Purview: "Use Double Key Encryption", DKE URL). */
export const labelUrl = (base: string, name: string): string => `${base}/${encodeURIComponent(name)}`;

/** The newest last use of any version (the audit trail's last successful decrypt). */
export const lastUse = (key: KeyView): string | undefined =>
  key.versions.map((v) => v.lastUsedAt).filter((at): at is string => at !== undefined).sort().at(-1);

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

export function KeysPage({ labelBase }: { labelBase: string }) {
  const keys = useLoad(() => api<KeyView[]>('GET', '/keys').then((r) => r.body), []);
  return (
    <section aria-labelledby="keys-title">
      <h1 id="keys-title">Keys</h1>
      <ErrorText text={keys.error} />
      {keys.data === undefined && keys.error === undefined && <Loading what="keys" />}
      {keys.data?.length === 0 && <p>No keys yet. Create one with "dke keys create NAME".</p>}
      {keys.data !== undefined && keys.data.length > 0 && (
        <DataTable label="Keys" columns={['Name', 'Published version', 'State', 'Label URL', 'Last use']}>
              {keys.data.map((key) => {
                const published = key.versions.find((v) => v.published);
                const shown = published ?? key.versions.at(-1);
                const url = labelUrl(labelBase, key.name);
                return (
                  <tr key={key.name}>
                    <th scope="row">
                      <a href={`#/keys/${encodeURIComponent(key.name)}`}>{key.name}</a>
                    </th>
                    <td>{published ? <code title={published.keyId}>{shortId(published.keyId)}</code> : <span>none published</span>}</td>
                    <td>
                      {shown && (
                        <>
                          <StateBadge state={shown.state} /> <EnabledBadge enabled={shown.enabled} />
                        </>
                      )}
                    </td>
                    <td class="url">
                      <code>{url}</code> <CopyButton text={url} label={`Copy the label URL of ${key.name}`} />
                    </td>
                    <td>
                      <Time at={lastUse(key)} />
                    </td>
                  </tr>
                );
              })}
            </DataTable>
      )}
    </section>
  );
}
