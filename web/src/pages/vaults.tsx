import { api } from '../api';
import { Badge, DataTable, ErrorText, Loading, Time, useLoad } from '../ui';
import { VAULT_STATUS_BADGES, type KeyView, type ReadinessView, type VaultList } from '../vocabulary';

/** Versions per vault (every state), from the key list: what each vault's HSM holds for this service. */
function versionsPerVault(keys: readonly KeyView[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const key of keys) for (const version of key.versions) counts.set(version.vault, (counts.get(version.vault) ?? 0) + 1);
  return counts;
}

/**
 * The vaults of this instance (contract §9): each HSM partition's status, its connection, its sessions and how many
 * key versions it holds; the last self-test of the served versions is the instance's readiness (the Health page).
 */
export function VaultsPage() {
  const vaults = useLoad(() => api<VaultList>('GET', '/vaults').then((r) => r.body), []);
  const keys = useLoad(() => api<KeyView[]>('GET', '/keys').then((r) => r.body), []);
  const health = useLoad(() => api<ReadinessView>('GET', '/health').then((r) => r.body), []);
  const counts = versionsPerVault(keys.data ?? []);
  const selfTest = health.data?.checks.selfTest;
  return (
    <section aria-labelledby="vaults-title">
      <h1 id="vaults-title">Vaults</h1>
      <ErrorText text={vaults.error ?? keys.error} />
      {vaults.data === undefined && vaults.error === undefined && <Loading what="the vaults" />}
      {selfTest && (
        <p>
          Last self-test of the served versions: <Badge kind={selfTest.status}>{selfTest.status}</Badge> <Time at={selfTest.checkedAt} />
          {selfTest.detail ? ` (${selfTest.detail})` : ''}
        </p>
      )}
      {vaults.data && (
        <DataTable label="Vaults" columns={['Vault', 'Status', 'Connection', 'Since', 'Sessions (in use)', 'Key versions', 'Module and token']}>
          {vaults.data.vaults.map((vault) => (
            <tr key={vault.name}>
              <th scope="row">
                {vault.name} {vault.name === vaults.data!.default && <span class="badge published">Default for new keys</span>}
              </th>
              <td>
                <Badge kind={VAULT_STATUS_BADGES[vault.status]}>{vault.status}</Badge>
              </td>
              <td class="wrap">
                <Badge kind={vault.connection.state === 'up' ? 'pass' : 'fail'}>{vault.connection.state}</Badge>
                {vault.connection.detail ? ` ${vault.connection.detail}` : ''}
              </td>
              <td>
                <Time at={vault.connection.since} />
              </td>
              <td>
                {vault.sessions} ({vault.sessionsInUse})
              </td>
              <td>{keys.data ? (counts.get(vault.name) ?? 0) : '…'}</td>
              <td class="wrap">
                <code>{vault.library}</code> {vault.tokenLabel !== undefined ? `token "${vault.tokenLabel}"` : `slot ${vault.slot ?? ''}`}
              </td>
            </tr>
          ))}
        </DataTable>
      )}
    </section>
  );
}
