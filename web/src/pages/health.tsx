import { api } from '../api';
import { DataTable, Badge, ErrorText, Loading, Time, useLoad } from '../ui';
import type { ReadinessView } from '../vocabulary';

export function HealthPage() {
  const health = useLoad(() => api<ReadinessView>('GET', '/health').then((r) => r.body), []);
  return (
    <section aria-labelledby="health-title">
      <h1 id="health-title">Health</h1>
      <ErrorText text={health.error} />
      {health.data === undefined && health.error === undefined && <Loading what="the readiness checks" />}
      {/* The emergency block has its banner on every page (web/src/emergency.tsx). */}
      {health.data && (
        <>
          <p>
            This instance is <Badge kind={health.data.ready ? 'pass' : 'fail'}>{health.data.ready ? 'ready' : 'not ready'}</Badge>
          </p>
          <DataTable label="Readiness checks" columns={['Check', 'Status', 'Checked', 'Detail']}>
                {Object.entries(health.data.checks).map(([name, check]) => (
                  <tr key={name}>
                    <th scope="row">{name}</th>
                    <td>
                      <Badge kind={check.status}>{check.status}</Badge>
                    </td>
                    <td>
                      <Time at={check.checkedAt} />
                    </td>
                    <td class="wrap">{check.detail ?? ''}</td>
                  </tr>
                ))}
              </DataTable>
        </>
      )}
    </section>
  );
}
