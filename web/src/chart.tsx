import { DataTable } from './ui';
import type { DecryptDay } from './vocabulary';

const WIDTH = 600;
const HEIGHT = 160;
const AXIS = 2;

/**
 * Decrypts per day as stacked bars (allowed below, refused above), drawn as SVG without any script or inline style,
 * so the page's CSP holds. The picture has a one-sentence name; the numbers stay readable as a table.
 */
export function DecryptChart({ days, keyName }: { days: readonly DecryptDay[]; keyName: string }) {
  const allowed = days.reduce((n, d) => n + d.allowed, 0);
  const refused = days.reduce((n, d) => n + d.refused, 0);
  const top = Math.max(1, ...days.map((d) => d.allowed + d.refused));
  const slot = WIDTH / days.length;
  const scale = (n: number): number => (n / top) * (HEIGHT - AXIS);
  const summary = `${keyName}: ${allowed} decrypts allowed and ${refused} refused in the last ${days.length} days; at most ${top} on one day.`;
  return (
    <figure class="chart">
      <svg viewBox={`0 0 ${WIDTH} ${HEIGHT}`} role="img" aria-label={summary} preserveAspectRatio="none">
        <line class="axis" x1="0" y1={HEIGHT - AXIS} x2={WIDTH} y2={HEIGHT - AXIS} />
        {days.map((d, i) => {
          const a = scale(d.allowed);
          const r = scale(d.refused);
          const x = i * slot + slot * 0.15;
          const w = slot * 0.7;
          return (
            <g key={d.date} data-date={d.date}>
              {d.allowed > 0 && <rect class="allowed" x={x} y={HEIGHT - AXIS - a} width={w} height={a} />}
              {d.refused > 0 && <rect class="refused" x={x} y={HEIGHT - AXIS - a - r} width={w} height={r} />}
            </g>
          );
        })}
      </svg>
      <p class="ticks" aria-hidden="true">
        <span>{days[0]?.date}</span>
        <span>{days.at(-1)?.date}</span>
      </p>
      <figcaption>
        <span class="swatch allowed" aria-hidden="true" /> allowed ({allowed}) <span class="swatch refused" aria-hidden="true" /> refused ({refused})
      </figcaption>
      <details>
        <summary>Daily numbers</summary>
        <DataTable label="Decrypts per day" columns={['Day (UTC)', 'Allowed', 'Refused']}>
              {days
                .filter((d) => d.allowed + d.refused > 0)
                .map((d) => (
                  <tr key={d.date}>
                    <th scope="row">{d.date}</th>
                    <td>{d.allowed}</td>
                    <td>{d.refused}</td>
                  </tr>
                ))}
            </DataTable>
      </details>
    </figure>
  );
}
