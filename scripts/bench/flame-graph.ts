/**
 * Renders a V8 .cpuprofile (node --cpu-prof) as a flame graph in SVG: callers below, callees above, each frame as
 * wide as its share of the samples (the idle samples left out), coloured by where its code lives. Also sums self
 * time by package, the table the benchmark diary quotes.
 */

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
}

interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
  readonly hitCount?: number;
  readonly children?: readonly number[];
}

export interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly startTime: number;
  readonly endTime: number;
  readonly samples?: readonly number[];
  /** Microseconds from the previous sample (the first from startTime), one per sample. */
  readonly timeDeltas?: readonly number[];
}

interface Frame {
  readonly node: ProfileNode;
  readonly self: number;
  readonly total: number;
  readonly children: Frame[];
}

const ROW = 17;
const WIDTH = 1200;
const IDLE = '(idle)';

/** Where a frame's code lives: a package of node_modules, the service, Node itself, or the engine. */
export function origin(frame: CallFrame): string {
  const url = frame.url;
  if (url === '') return frame.functionName.startsWith('(') ? frame.functionName : '(native)';
  if (url.startsWith('node:')) return 'node';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (pkg !== null) return pkg[1]!;
  const own = /\/dist\/(.+)\.js$/.exec(url);
  return own !== null ? `service ${own[1]}` : url;
}

function tree(profile: CpuProfile): Frame {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const build = (node: ProfileNode): Frame => {
    const children = (node.children ?? [])
      .map((id) => byId.get(id)!)
      .filter((child) => child.callFrame.functionName !== IDLE)
      .map(build)
      .filter((child) => child.total > 0)
      .sort((a, b) => label(a.node.callFrame).localeCompare(label(b.node.callFrame)));
    const self = node.hitCount ?? 0;
    return { node, self, total: self + children.reduce((sum, c) => sum + c.total, 0), children };
  };
  return build(profile.nodes[0]!);
}

function label(frame: CallFrame): string {
  const name = frame.functionName === '' ? '(anonymous)' : frame.functionName;
  if (frame.url === '') return name;
  const file = frame.url.replace(/^file:\/\/.*?\/(node_modules|dist)\//, '$1/');
  return `${name} ${file}:${frame.lineNumber + 1}`;
}

function colour(frame: CallFrame): string {
  const where = origin(frame);
  if (where.startsWith('service ')) return 'hsl(28,90%,62%)';
  if (where === 'node') return 'hsl(140,45%,60%)';
  if (where === '(garbage collector)') return 'hsl(0,70%,65%)';
  if (where.startsWith('(')) return 'hsl(0,0%,75%)';
  return 'hsl(210,65%,68%)';
}

const escape = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** The SVG of the profile, with `title` and the share of idle samples in its heading. */
export function flameGraphSvg(profile: CpuProfile, title: string): string {
  const root = tree(profile);
  const idle = profile.nodes.filter((n) => n.callFrame.functionName === IDLE).reduce((sum, n) => sum + (n.hitCount ?? 0), 0);
  const all = root.total + idle;
  let depth = 0;
  const rects: string[] = [];
  const scale = (WIDTH - 20) / Math.max(1, root.total);
  const place = (frame: Frame, x: number, level: number): void => {
    const width = frame.total * scale;
    if (width < 0.3) return;
    depth = Math.max(depth, level);
    rects.push(`${level}|${x}|${width}|${escape(label(frame.node.callFrame))}|${colour(frame.node.callFrame)}|${((frame.total / root.total) * 100).toFixed(1)}`);
    let childX = x;
    for (const child of frame.children) {
      place(child, childX, level + 1);
      childX += child.total * scale;
    }
  };
  place({ ...root, node: { ...root.node, callFrame: { functionName: 'all busy samples', url: '', lineNumber: 0 } } }, 10, 0);
  const height = (depth + 1) * ROW + 50;
  const body = rects.map((r) => {
    const [level, x, width, text, fill, share] = r.split('|') as [string, string, string, string, string, string];
    const y = height - 10 - (Number(level) + 1) * ROW;
    const w = Number(width);
    const chars = Math.floor((w - 4) / 6.5);
    const shown = chars < 3 ? '' : text.length <= chars ? text : `${text.slice(0, chars - 2)}..`;
    return `<g><title>${text} (${share}%)</title><rect x="${Number(x).toFixed(1)}" y="${y}" width="${w.toFixed(1)}" height="${ROW - 1}" fill="${fill}" rx="2"/>${shown === '' ? '' : `<text x="${(Number(x) + 3).toFixed(1)}" y="${y + 12}">${shown}</text>`}</g>`;
  });
  const seconds = (profile.endTime - profile.startTime) / 1e6;
  const heading = `${title}: ${root.total} busy samples over ${seconds.toFixed(1)} s, idle ${((idle / Math.max(1, all)) * 100).toFixed(0)}% (left out)`;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="monospace" font-size="11">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="10" y="20" font-size="14">${escape(heading)}</text>`,
    `<text x="10" y="36" fill="#555">orange: service code, blue: npm packages, green: Node.js, grey: engine and native code, red: garbage collector</text>`,
    ...body,
    '</svg>',
    '',
  ].join('\n');
}

/** Self time by origin (package), largest first, as shares of the busy samples. */
export function selfTimeByOrigin(profile: CpuProfile): { origin: string; share: number }[] {
  const totals = new Map<string, number>();
  let busy = 0;
  for (const node of profile.nodes) {
    if (node.callFrame.functionName === IDLE) continue;
    const hits = node.hitCount ?? 0;
    busy += hits;
    const where = origin(node.callFrame);
    totals.set(where, (totals.get(where) ?? 0) + hits);
  }
  return [...totals.entries()].map(([o, hits]) => ({ origin: o, share: hits / Math.max(1, busy) })).sort((a, b) => b.share - a.share);
}
