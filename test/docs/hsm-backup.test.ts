/**
 * Issue 27: `dke store backup` copies the store, never the HSM's keys, and says so after every copy, as the
 * operations guide does: a store restored without the HSM's own backup names versions whose keys are gone.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'mocha';
import { runCli } from '../support/run-cli.js';

describe("issue 27: dke store backup says that the HSM's keys are not in it", () => {
  const dir = mkdtempSync(join(tmpdir(), 'dke-backup-words-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('the command says it after the copy, and docs/operations.md says it under Backups', () => {
    const env = { ...Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('DKE_'))), DKE_DATA_DIR: join(dir, 'data') };
    assert.equal(runCli(['store', 'init'], env).status, 0);
    const backup = runCli(['store', 'backup', join(dir, 'copy.sqlite')], env);
    assert.equal(backup.status, 0, backup.stderr);
    const lines = backup.stdout.trimEnd().split('\n');
    assert.match(lines[0]!, new RegExp(`^Backed up the store to ${join(dir, 'copy.sqlite')} \\(audit head: entry \\d+\\)\\.$`));
    const sentence = "The HSM's keys are not in this backup: back them up with your HSM vendor's own backup (the embedded development token: copy DKE_DATA_DIR/dev-token).";
    assert.deepEqual(lines.slice(1), [sentence]);
    const guide = readFileSync('docs/operations.md', 'utf8');
    const start = guide.indexOf('\n## Backups\n');
    assert.ok(start >= 0, 'docs/operations.md has its Backups section');
    const backups = guide.slice(start, guide.indexOf('\n## ', start + 1)).replace(/\s+/g, ' ');
    assert.ok(backups.includes('**The keys themselves live in the HSM, and `dke store backup` does not back them up.**'));
    assert.ok(backups.includes(`"${sentence}"`), 'the guide quotes the command');
  });
});
