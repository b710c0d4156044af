/**
 * The chart `npm run bench` writes (docs/bench-decrypt.svg, shown in docs/benchmarks.md): decrypts per second and p99 latency
 * against requests in flight, the service beside the raw token, one line per series.
 */

export interface ChartPoint {
  readonly inFlight: number;
  readonly perSecond: number;
  readonly p99Ms: number;
}

export interface ChartSeries {
  readonly label: string;
  readonly colour: string;
  readonly dashed: boolean;
  readonly points: readonly ChartPoint[];
}

const PANEL = { width: 440, height: 260, left: 60, top: 40, gap: 90 };

export function benchChartSvg(title: string, series: readonly ChartSeries[]): string {
  const levels = [...new Set(series.flatMap((s) => s.points.map((p) => p.inFlight)))].sort((a, b) => a - b);
  const panels = [
    panel('decrypts per second', series, levels, (p) => p.perSecond, 0),
    panel('p99 latency (ms)', series, levels, (p) => p.p99Ms, PANEL.width + PANEL.gap),
  ];
  const width = PANEL.left + 2 * PANEL.width + PANEL.gap + 20;
  const legendTop = PANEL.top + PANEL.height + 45;
  const legend = series.map(
    (s, i) =>
      `<line x1="${PANEL.left + i * 230}" y1="${legendTop}" x2="${PANEL.left + i * 230 + 30}" y2="${legendTop}" stroke="${s.colour}" stroke-width="2.5"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/>` +
      `<text x="${PANEL.left + i * 230 + 36}" y="${legendTop + 4}">${escape(s.label)}</text>`,
  );
  const height = legendTop + 20;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="${PANEL.left}" y="20" font-size="14">${escape(title)}</text>`,
    ...panels,
    ...legend,
    '</svg>',
    '',
  ].join('\n');
}

function panel(name: string, series: readonly ChartSeries[], levels: readonly number[], value: (p: ChartPoint) => number, offset: number): string {
  const x0 = PANEL.left + offset;
  const y0 = PANEL.top + PANEL.height;
  const max = niceCeiling(Math.max(1, ...series.flatMap((s) => s.points.map(value).filter(Number.isFinite))));
  const xAt = (level: number): number => x0 + (levels.length === 1 ? PANEL.width / 2 : (levels.indexOf(level) / (levels.length - 1)) * PANEL.width);
  const yAt = (v: number): number => y0 - (v / max) * PANEL.height;
  const parts = [
    `<text x="${x0}" y="${PANEL.top - 12}" font-weight="bold">${escape(name)}</text>`,
    `<line x1="${x0}" y1="${y0}" x2="${x0 + PANEL.width}" y2="${y0}" stroke="#333"/>`,
    `<line x1="${x0}" y1="${y0}" x2="${x0}" y2="${PANEL.top}" stroke="#333"/>`,
    `<text x="${x0 + PANEL.width / 2}" y="${y0 + 32}" text-anchor="middle">requests in flight</text>`,
  ];
  for (let i = 0; i <= 4; i += 1) {
    const v = (max * i) / 4;
    parts.push(`<line x1="${x0}" y1="${yAt(v)}" x2="${x0 + PANEL.width}" y2="${yAt(v)}" stroke="#ddd"/>`);
    parts.push(`<text x="${x0 - 6}" y="${yAt(v) + 4}" text-anchor="end">${Math.round(v).toLocaleString('en-US')}</text>`);
  }
  for (const level of levels) parts.push(`<text x="${xAt(level)}" y="${y0 + 16}" text-anchor="middle">${level}</text>`);
  for (const s of series) {
    const points = s.points.filter((p) => Number.isFinite(value(p)));
    parts.push(
      `<polyline fill="none" stroke="${s.colour}" stroke-width="2.5"${s.dashed ? ' stroke-dasharray="6 4"' : ''} points="${points.map((p) => `${xAt(p.inFlight).toFixed(1)},${yAt(value(p)).toFixed(1)}`).join(' ')}"/>`,
    );
    for (const p of points) parts.push(`<circle cx="${xAt(p.inFlight).toFixed(1)}" cy="${yAt(value(p)).toFixed(1)}" r="3" fill="${s.colour}"><title>${escape(s.label)}, ${p.inFlight} in flight: ${value(p).toFixed(1)}</title></circle>`);
  }
  return parts.join('\n');
}

/** 1, 2 or 5 times a power of ten, at least `value`. */
function niceCeiling(value: number): number {
  const power = 10 ** Math.floor(Math.log10(value));
  return [1, 2, 5, 10].map((m) => m * power).find((v) => v >= value)!;
}

const escape = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
