// Issue 27 in a real browser (Chromium through playwright-core, as test/web/console.test.ts): the console tells a tenant
// admin the truth at a glance. A key pending deletion, a disabled one and a compromised one, and every key during the
// emergency block, show a status that is not "Serving" and no Copy button for their label URL, whose GET answers 404
// (asserted too); a banner says the emergency block is on, on every page; the approver sees the impact the proposer
// saw before approving; dialogs say a step will only be proposed, and that a delete is cancellable until its date; a
// key is created and the emergency block engaged (and its lifting proposed) from the pages. One service and one
// browser for the file.
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'mocha';
import type { Browser, Page } from 'playwright-core';
import { parseSettings, type RawSettings } from '../../src/config/config.js';
import { createLogger } from '../../src/log/logger.js';
import { startService, type RunningService } from '../../src/main/run-service.js';
import { assertWatched, launchChromium, seriousViolations, signIn as signInAt, type SignedIn } from '../support/console-browser.js';
import { decryptAs } from '../support/decrypt-client.js';
import { startTestEnv, type TestEnv } from '../support/test-env.js';

const USER = 'alice@contoso.dev';
const ALLOW = { users: [USER], groups: [], roles: [] };

describe('issue 27: the console shows the effective status, the emergency block and the consequences of a step (Chromium)', function () {
  this.timeout(30_000);
  let env: TestEnv;
  let running: RunningService;
  let browser: Browser;
  let consoleUrl: string;
  let admin: SignedIn;
  const contexts: SignedIn[] = [];
  const servedKeyId = { value: '' };

  /** Runs a proposal of the test's KeyAdmin through a second admin, as the two-person rule wants. */
  async function approvedBySecondAdmin(step: Promise<unknown>): Promise<void> {
    await step;
    const [proposal] = (await env.admin.approvals()).filter((a) => a.status === 'pending');
    await env.service.admin('second-admin').approve(proposal!.id);
  }

  before(async () => {
    env = await startTestEnv({ settings: { DKE_APPROVALS_REQUIRED: '2', DKE_DELETION_WINDOW: '7d' } });
    servedKeyId.value = (await env.admin.create('served-key', { allow: ALLOW })).keyId;
    for (let i = 0; i < 2; i += 1) await decryptAs(env, USER, 'served-key', servedKeyId.value, Buffer.from('x'));
    const disabled = await env.admin.create('disabled-key', { allow: ALLOW });
    await env.admin.setEnabled('disabled-key', disabled.keyId, false);
    const pending = await env.admin.create('pending-key', { allow: ALLOW });
    await approvedBySecondAdmin(env.admin.delete('pending-key', pending.keyId, true));
    const compromised = await env.admin.create('compromised-key', { allow: ALLOW });
    await approvedBySecondAdmin(env.admin.setState('compromised-key', compromised.keyId, 'compromised', true));
    const config = parseSettings({ ...(env.cliEnv as RawSettings), DKE_PORT: '0', DKE_HOST: '127.0.0.1', DKE_ADMIN_PORT: '0' });
    running = await startService({ ...config, consoleSignIn: { clientId: 'dke-dev-console', authority: env.issuer.authority } }, createLogger('error', new PassThrough()));
    consoleUrl = `${running.adminUrl!.replace(/\/api$/, '')}/`;
    browser = await launchChromium();
    admin = await signIn('admin@contoso.dev');
  });

  after(async () => {
    await browser?.close();
    await running?.stop();
    await env?.close();
    assertWatched(contexts);
  });

  async function signIn(upn: string): Promise<SignedIn> {
    const signedIn = await signInAt(browser, consoleUrl, upn);
    contexts.push(signedIn);
    return signedIn;
  }

  /** What GET /{name} answers on the DKE port (of the instance beside the console's, on the same store). */
  const publicKeyStatus = async (name: string): Promise<number> => (await env.http.get(`/${name}`)).status;

  /** The key list's row of `name`, once loaded, with its status text and whether it offers a Copy button. */
  async function keyRow(page: Page, name: string): Promise<{ status: string; copyButtons: number }> {
    const row = page.getByRole('region', { name: 'Keys' }).getByRole('row', { name: new RegExp(`^${name}\\b`) });
    await row.waitFor();
    return { status: await row.locator('td').first().innerText(), copyButtons: await row.getByRole('button', { name: /^Copy the label URL/ }).count() };
  }

  it('a key pending deletion, a disabled and a compromised one are not "Serving" and offer no Copy button; their URL answers 404', async () => {
    const { page } = admin;
    await page.goto(`${consoleUrl}#/keys`);
    assert.deepEqual(await keyRow(page, 'served-key'), { status: 'Serving', copyButtons: 1 });
    assert.equal(await publicKeyStatus('served-key'), 200);
    const expected = { 'disabled-key': /^Blocked \(disabled\)$/, 'pending-key': /^Pending deletion until .+/, 'compromised-key': /^Compromised$/ };
    for (const [name, status] of Object.entries(expected)) {
      const row = await keyRow(page, name);
      assert.match(row.status, status, name);
      assert.equal(row.copyButtons, 0, `${name} offers its label URL for copying`);
      assert.equal(await publicKeyStatus(name), 404, name);
    }
    // The key page says the same, for the key and its version (no green "Enabled" on a version pending deletion).
    await page.goto(`${consoleUrl}#/keys/pending-key`);
    const version = page.getByRole('region', { name: 'Versions of pending-key' }).locator('tbody tr').first();
    await version.waitFor();
    assert.match(await version.innerText(), /Pending deletion until .*\(Active\)/);
    assert.match(await version.innerText(), /Published, not served/);
    assert.doesNotMatch(await page.locator('main').innerText(), /Serving|\bEnabled\b/);
    assert.equal(await page.getByRole('button', { name: /^Copy the label URL/ }).count(), 0);
    assert.match(await page.getByText('not served now').innerText(), /answers 404/);
  });

  it('the delete dialog says it is cancellable until its date and only proposed; the approver sees the impact before approving', async () => {
    const { page } = admin;
    const short = `${servedKeyId.value.slice(0, 8)}…`;
    await page.goto(`${consoleUrl}#/keys/served-key`);
    await page.getByRole('button', { name: `Delete version ${short}` }).click();
    const dialog = page.getByRole('dialog');
    await dialog.waitFor();
    const text = await dialog.innerText();
    assert.match(text, /the delete is cancellable until \d{4}-/);
    assert.doesNotMatch(text, /cannot be undone/);
    assert.match(text, /Proposed: this waits for a second admin\./);
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    // The proposer proposes a deactivation; the approver, before approving, sees its impact: two documents, one user.
    await page.getByLabel(`New state of version ${short}`).selectOption('deactivated');
    await page.getByRole('button', { name: `Set state of version ${short}` }).click();
    await dialog.getByRole('button', { name: `Propose: Make Deactivated version ${short}` }).click();
    await page.getByRole('status').filter({ hasText: 'proposed, waiting' }).waitFor();
    const approver = await signIn('approver@contoso.dev');
    await approver.page.goto(`${consoleUrl}#/approvals`);
    await approver.page.getByRole('button', { name: /^Approve proposal/ }).click();
    const confirm = approver.page.getByRole('dialog');
    await confirm.waitFor();
    assert.match(await confirm.innerText(), /Active → Deactivated[^]*opened 2 documents for 1 user, last at /);
    assert.equal((await env.admin.show('served-key')).versions[0]!.state, 'active', 'nothing ran before the confirmation');
    await confirm.getByRole('button', { name: /^Approve and run proposal/ }).click();
    await approver.page.getByRole('status').filter({ hasText: 'approved: the step ran' }).waitFor();
    assert.equal((await env.admin.show('served-key')).versions[0]!.state, 'deactivated');
    await approver.context.close();
  });

  it('a key is created from the page and serves; the emergency block engaged from the page shows a banner on every page and no key serving', async () => {
    const { page } = admin;
    await page.goto(`${consoleUrl}#/keys`);
    await page.getByLabel('Key name').fill('made-in-console');
    await page.getByRole('button', { name: 'Create key' }).click();
    await page.getByRole('status').filter({ hasText: 'Created made-in-console' }).waitFor();
    assert.deepEqual(await keyRow(page, 'made-in-console'), { status: 'Serving', copyButtons: 1 });
    assert.equal(await publicKeyStatus('made-in-console'), 200);

    await page.getByRole('button', { name: 'Engage the emergency block' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Engage the emergency block' }).click();
    const banner = page.getByRole('alert').filter({ hasText: 'Emergency block ON' });
    await banner.waitFor();
    assert.equal(env.admin.emergencyBlock().blocked, true);
    await page.getByRole('row', { name: /^made-in-console\b/ }).getByText('Emergency block', { exact: true }).waitFor();
    assert.deepEqual(await keyRow(page, 'made-in-console'), { status: 'Emergency block', copyButtons: 0 });
    assert.equal(await page.getByRole('button', { name: /^Copy the label URL/ }).count(), 0);
    assert.equal(await publicKeyStatus('made-in-console'), 404);
    assert.deepEqual(await seriousViolations(page), [], 'the banner and the statuses');
    for (const route of ['#/approvals', '#/audit', '#/health', '#/keys/made-in-console']) {
      await page.goto(`${consoleUrl}${route}`);
      await banner.waitFor();
    }
    // Lifting it waits for a second admin: the dialog says so, and the block stays on.
    await banner.getByRole('button', { name: 'Propose lifting the emergency block' }).click();
    const dialog = page.getByRole('dialog').filter({ hasText: 'Propose lifting' });
    assert.match(await dialog.innerText(), /Proposed: this waits for a second admin\./);
    await dialog.getByRole('button', { name: 'Propose lifting the emergency block' }).click();
    await page.getByRole('status').filter({ hasText: 'Lifting the emergency block: proposed' }).waitFor();
    assert.equal(env.admin.emergencyBlock().blocked, true);
    assert.deepEqual(
      (await env.admin.approvals()).filter((a) => a.status === 'pending').map((a) => a.operation),
      ['emergency-unblock'],
    );
  });
});
