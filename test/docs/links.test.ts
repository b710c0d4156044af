/**
 * Issue 27 (docs for the people who use them): the README stays a short entry point (about 400 lines) and every
 * relative link and anchor in README.md and docs/*.md resolves inside the repository, so a clone reads whole: no link
 * to a file that is not in it (`../shared/…` once), no anchor of a section that moved. Anchors are GitHub's: the
 * heading in lower case, punctuation dropped, spaces as hyphens, `-1`, `-2` for repeats.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { describe, it } from 'mocha';

const ROOT = process.cwd();
/** Issue 27: "a README of a few hundred lines"; the limit leaves room to grow a little, not to become a diary again. */
const README_MAX_LINES = 450;

export interface Link {
  readonly file: string;
  readonly line: number;
  readonly target: string;
}

/**
 * Markdown text without fenced code blocks (their brackets are code, not links), line numbers kept; code spans are
 * dropped too, or only their backticks (a heading's anchor keeps the words of its code spans).
 */
function prose(text: string, codeSpans: 'drop' | 'unquote' = 'drop'): string[] {
  let fenced = false;
  return text.split('\n').map((line) => {
    if (/^\s*```/.test(line)) {
      fenced = !fenced;
      return '';
    }
    if (fenced) return '';
    return codeSpans === 'drop' ? line.replace(/`[^`]*`/g, '') : line.replace(/`/g, '');
  });
}

/** GitHub's anchor of a heading. */
export function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\p{M}_\- ]/gu, '')
    .replace(/ /g, '-');
}

export function anchorsOf(text: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const line of prose(text, 'unquote')) {
    const heading = /^#{1,6} (.+)$/.exec(line)?.[1];
    if (heading === undefined) continue;
    const base = slug(heading);
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    anchors.add(count === 0 ? base : `${base}-${count}`);
  }
  return anchors;
}

/** Inline links and images, `[text](target)` and `![alt](target)`, outside code. */
export function linksOf(file: string, text: string): Link[] {
  return prose(text).flatMap((line, index) =>
    [...line.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)].map((match) => ({ file, line: index + 1, target: match[1]! })),
  );
}

/** Why a link does not resolve inside the repository, or undefined when it does. Web links are not followed. */
export function problemOf(link: Link, root: string = ROOT): string | undefined {
  if (/^[a-z][a-z0-9+.-]*:/i.test(link.target)) return /^(https?|mailto):/i.test(link.target) ? undefined : `a ${link.target.split(':')[0]}: link`;
  const [path = '', fragment] = link.target.split('#', 2) as [string, string | undefined];
  const target = path === '' ? join(root, link.file) : resolve(root, dirname(link.file), decodeURIComponent(path));
  const inside = relative(root, target);
  if (inside.startsWith('..') || inside.startsWith(sep) || resolve(root, inside) !== target) return 'it leaves the repository';
  if (!existsSync(target)) return `${inside} does not exist`;
  if (fragment === undefined) return undefined;
  if (!target.endsWith('.md') || statSync(target).isDirectory()) return `#${fragment} points into a file that has no headings`;
  return anchorsOf(readFileSync(target, 'utf8')).has(fragment) ? undefined : `${inside} has no heading #${fragment}`;
}

function documents(): string[] {
  return ['README.md', ...readdirSync(join(ROOT, 'docs')).filter((name) => name.endsWith('.md')).map((name) => `docs/${name}`)];
}

describe('issue 27: README and docs/ links resolve inside the repository', () => {
  it(`README.md stays an entry point: under ${README_MAX_LINES} lines`, () => {
    const lines = readFileSync(join(ROOT, 'README.md'), 'utf8').trimEnd().split('\n').length;
    assert.ok(lines <= README_MAX_LINES, `README.md has ${lines} lines`);
  });

  it('every relative link and anchor in README.md and docs/*.md resolves, and none leaves the repository', () => {
    const links = documents().flatMap((file) => linksOf(file, readFileSync(join(ROOT, file), 'utf8')));
    assert.ok(links.length > 50, `links found: ${links.length}`);
    const broken = links.flatMap((link) => {
      const problem = problemOf(link);
      return problem === undefined ? [] : [`${link.file}:${link.line} (${link.target}): ${problem}`];
    });
    assert.deepEqual(broken, []);
  });

  it('the guides the README names exist and the README links each of them', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    for (const guide of ['docs/admin-guide.md', 'docs/operations.md', 'docs/configuration.md', 'docs/reference.md', 'docs/architecture.md', 'docs/benchmarks.md']) {
      assert.ok(existsSync(join(ROOT, guide)), guide);
      assert.ok(readme.includes(`](${guide})`), `README links ${guide}`);
    }
    assert.doesNotMatch(readme, /\.\.\/shared|dke-contract\.md/, 'the README describes the interface itself');
  });

  it('the checker finds what it must: a missing file, a missing anchor, a link out of the repository, a heading in code', () => {
    const link = (target: string): Link => ({ file: 'README.md', line: 1, target });
    assert.equal(problemOf(link('docs/missing.md')), 'docs/missing.md does not exist');
    assert.equal(problemOf(link('docs/operations.md#no-such-section')), 'docs/operations.md has no heading #no-such-section');
    assert.equal(problemOf(link('../shared/dke-contract.md')), 'it leaves the repository');
    assert.equal(problemOf(link('#quick-start-one-command')), undefined);
    assert.equal(problemOf(link('https://learn.microsoft.com/')), undefined);
    assert.equal(problemOf(link('file:///etc/passwd')), 'a file: link');
    assert.deepEqual([...anchorsOf('# A `dke` command (§3)\n```\n# not a heading\n```\n## Two\n## Two')], ['a-dke-command-3', 'two', 'two-1']);
    assert.deepEqual(linksOf('x.md', 'see [a](b.md) and `[c](d.md)`\n```\n[e](f.md)\n```\n![g](h.png)').map((l) => l.target), ['b.md', 'h.png']);
  });
});
