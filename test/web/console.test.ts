// Contract §7 (console) with §6 (roles, two-person rule): a real browser (Debian's Chromium through playwright-core)
// against dke-dev-style wiring (real NSS token, development issuer with its sign-in page and PKCE token endpoint,
// the admin listener serving the built console). Each development user signs in; an admin rotates and proposes a
// deactivation that the proposer cannot approve and the approver does; an auditor sees everything and can change
// nothing; the chart, the audit page and health render; axe-core finds no serious or critical violation; no request
// leaves loopback; nothing is written to the browser console. Screenshots go to test-artifacts/console/.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'mocha';
import type { Browser, Page } from 'playwright-core';
import { parseSettings, type RawSettings } from '../../src/config/config.js';
import { createLogger } from '../../src/log/logger.js';
import { startService, type RunningService } from '../../src/main/run-service.js';
import { assertWatched, launchChromium, seriousViolations, signIn as signInAt, type SignedIn } from '../support/console-browser.js';
import { decryptAs } from '../support/decrypt-client.js';
import { startTestEnv, TEST_ADMIN_AUDIENCE, TEST_AUDIENCE, type TestEnv } from '../support/test-env.js';

const SHOTS = 'test-artifacts/console';
const KEY = 'contoso-confidential';
const USER = 'alice@contoso.dev';

describe('§7 console in a real browser (Chromium, dev issuer sign-in, real NSS token)', function () {
  this.timeout(60_000);
  let env: TestEnv;
  let running: RunningService;
  let browser: Browser;
  let consoleUrl: string;
  const contexts: SignedIn[] = [];

  before(async function () {
    mkdirSync(SHOTS, { recursive: true });
    // DKE_APPROVALS_REQUIRED=2 on both instances of the shared store, as a deployment sets it everywhere.
    env = await startTestEnv({ settings: { DKE_APPROVALS_REQUIRED: '2' } });
    const { keyId } = await env.admin.create(KEY, { allow: { users: [USER], groups: [], roles: [] } });
    await env.admin.create('finance-restricted', {});
    // Decrypt activity for the chart: two allowed, one refused (a user without a grant).
    for (const upn of [USER, USER, 'mallory@contoso.dev']) await decryptAs(env, upn, KEY, keyId, Buffer.from('x'));
    // Issue 26: the console's instance is configured with one approval, but the policy the store was given at its first
    // start (two) rules every instance: its configuration no longer decides.
    const config = parseSettings({ ...(env.cliEnv as RawSettings), DKE_APPROVALS_REQUIRED: '1', DKE_PORT: '0', DKE_HOST: '127.0.0.1', DKE_ADMIN_PORT: '0' });
    // As `dke dev`: the console signs in at the development issuer.
    running = await startService({ ...config, consoleSignIn: { clientId: 'dke-dev-console', authority: env.issuer.authority } }, createLogger('error', new PassThrough()));
    consoleUrl = `${running.adminUrl!.replace(/\/api$/, '')}/`;
    browser = await launchChromium();
  });

  after(async () => {
    // Close everything first, so that a finding below cannot leave the browser or the service running.
    await browser?.close();
    await running?.stop();
    await env?.close();
    assertWatched(contexts);
  });

  async function signIn(upn: string, viewport?: { width: number; height: number }): Promise<SignedIn> {
    const signedIn = await signInAt(browser, consoleUrl, upn, viewport);
    contexts.push(signedIn);
    return signedIn;
  }

  /** Every enabled control that changes something (rotate, state, grants, approvals…) on the page now. */
  const enabledActions = (page: Page) => page.locator('.action:enabled').count();

  it('the console is served with a strict CSP, and its sign-in settings name the authority', async () => {
    const res = await fetch(consoleUrl);
    assert.equal(res.status, 200);
    const csp = res.headers.get('content-security-policy') ?? '';
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    assert.match(csp, /frame-ancestors 'none'/);
    const settings = (await (await fetch(`${consoleUrl}config.json`)).json()) as Record<string, string>;
    assert.deepEqual(settings, {
      clientId: 'dke-dev-console',
      authority: env.issuer.authority,
      authorizeUrl: `${env.issuer.authority}/oauth2/v2.0/authorize`,
      tokenUrl: `${env.issuer.authority}/oauth2/v2.0/token`,
      scope: `${TEST_ADMIN_AUDIENCE}/.default`,
      labelBaseUrl: TEST_AUDIENCE,
    });
  });

  it('an admin signs in, sees the keys with their label URL, rotates, and the key page draws the 30-day chart', async () => {
    const { context, page } = await signIn('admin@contoso.dev');
    const row = page.getByRole('row', { name: new RegExp(KEY) });
    await row.waitFor();
    assert.match(await row.innerText(), new RegExp(`${TEST_AUDIENCE}/${KEY}`));
    // Issue 27: what the key does now, computed by the service (not "Active · Enabled").
    assert.match(await row.innerText(), /Serving/);
    await context.grantPermissions(['clipboard-read', 'clipboard-write']);
    await page.getByRole('button', { name: `Copy the label URL of ${KEY}` }).click();
    await row.getByRole('status').filter({ hasText: 'Copied' }).waitFor();
    assert.equal(await page.evaluate('navigator.clipboard.readText()'), `${TEST_AUDIENCE}/${KEY}`);
    assert.deepEqual(await seriousViolations(page), []);
    await page.screenshot({ path: `${SHOTS}/keys.png`, clip: { x: 0, y: 0, width: 1280, height: 400 } });

    await page.getByRole('link', { name: KEY }).click();
    const chart = page.getByRole('img', { name: /decrypts allowed/ });
    await chart.waitFor();
    assert.equal(await chart.getAttribute('aria-label'), `${KEY}: 2 decrypts allowed and 1 refused in the last 30 days; at most 3 on one day.`);
    assert.equal(await page.locator('svg rect.allowed').count(), 1);
    assert.equal(await page.locator('svg rect.refused').count(), 1);
    const versions = page.getByRole('region', { name: `Versions of ${KEY}` }).locator('tbody tr');
    await versions.first().waitFor();
    assert.equal(await versions.count(), 1);
    await page.getByRole('button', { name: 'Rotate: new published version' }).click();
    await page.getByRole('status').filter({ hasText: 'Rotation: done.' }).waitFor();
    // The versions table itself gets its second row (the page has other tables: counting every row passed too early).
    await versions.nth(1).waitFor();
    assert.equal(await versions.count(), 2);
    assert.match(await versions.first().innerText(), /Published/);
    assert.equal((await env.admin.show(KEY)).versions.length, 2);
    assert.deepEqual(await seriousViolations(page), []);
    await page.screenshot({ path: `${SHOTS}/key.png`, fullPage: true });
  });

  it('an admin proposes a deactivation after its impact preview; the proposer cannot approve it; the approver does (phone width)', async () => {
    const oldKeyId = (await env.admin.show(KEY)).versions[0]!.keyId;
    const { page } = await signIn('admin@contoso.dev');
    await page.goto(`${consoleUrl}#/keys/${KEY}`);
    await page.getByLabel(`New state of version ${oldKeyId.slice(0, 8)}…`).selectOption('deactivated');
    await page.getByRole('button', { name: `Set state of version ${oldKeyId.slice(0, 8)}…` }).click();
    const dialog = page.getByRole('dialog');
    await dialog.waitFor();
    // The impact preview, from the audit trail: the two allowed decrypts by one user.
    assert.match(await dialog.innerText(), /opened 2 documents for 1 user/);
    await page.screenshot({ path: `${SHOTS}/confirm.png` });
    // Issue 27: with approvals required, the dialog says the step will only be proposed.
    assert.match(await dialog.innerText(), /Proposed: this waits for a second admin\./);
    await dialog.getByRole('button', { name: /^Propose: Make Deactivated version/ }).click();
    await page.getByRole('status').filter({ hasText: "proposed, waiting for another admin's approval" }).waitFor();
    assert.equal((await env.admin.show(KEY)).versions[0]!.state, 'active', 'a proposal changes nothing yet');

    await page.getByRole('link', { name: 'Approvals' }).click();
    await page.getByText('You proposed this: another admin must approve it.').waitFor();
    // Contract §10: the page shows the stored policy.
    assert.equal(
      (await page.getByRole('region', { name: 'Policy' }).innerText()).replace(/\s+/g, ' ').trim(),
      'Policy Approvals required 2 Deletion window 0s by default, at least 0s Rotation minimum 1d App-only tokens may approve no',
    );
    assert.equal(await page.getByRole('button', { name: /^Approve proposal/ }).isDisabled(), true);
    // The service refuses it too, whatever a page offers (contract §6: 403 same_principal).
    const [proposal] = (await env.admin.approvals()).filter((a) => a.status === 'pending');
    const ownToken = await env.issuer.issueToken({ audience: TEST_ADMIN_AUDIENCE, upn: 'admin@contoso.dev', roles: ['DKE.Admin'] });
    const refused = await fetch(`${running.adminUrl}/approvals/${proposal!.id}/approve`, { method: 'POST', headers: { authorization: `Bearer ${ownToken}` } });
    assert.deepEqual([refused.status, ((await refused.json()) as { error: string }).error], [403, 'same_principal']);

    const approver = await signIn('approver@contoso.dev', { width: 390, height: 844 });
    // Phone width: the pages fit; wide tables scroll inside their own (named, focusable) region.
    for (const [shot, route, ready] of [
      ['keys-390', '#/keys', 'Keys'],
      ['key-390', `#/keys/${KEY}`, 'Decrypts, last 30 days'],
    ] as const) {
      await approver.page.goto(`${consoleUrl}${route}`);
      await approver.page.getByRole('heading', { name: ready }).waitFor();
      await approver.page.waitForLoadState('networkidle');
      assert.equal(await approver.page.evaluate('document.documentElement.scrollWidth'), 390, `${shot} is wider than a phone`);
      await approver.page.screenshot({ path: `${SHOTS}/${shot}.png`, fullPage: true });
    }
    await approver.page.getByRole('link', { name: 'Approvals' }).click();
    const approve = approver.page.getByRole('button', { name: `Approve proposal ${proposal!.id}` });
    await approve.waitFor();
    assert.equal(await approver.page.evaluate('document.documentElement.scrollWidth'), 390, 'the page is wider than a phone');
    await approver.page.screenshot({ path: `${SHOTS}/approvals-390.png`, fullPage: true });
    await approve.click();
    // Issue 27: the approver sees the impact the proposer saw before the step runs.
    const confirm = approver.page.getByRole('dialog');
    await confirm.waitFor();
    assert.match(await confirm.innerText(), /opened 2 documents for 1 user/);
    await confirm.getByRole('button', { name: `Approve and run proposal ${proposal!.id}` }).click();
    await approver.page.getByRole('status').filter({ hasText: 'approved: the step ran' }).waitFor();
    assert.equal((await env.admin.show(KEY)).versions[0]!.state, 'deactivated');
    const decided = (await env.admin.approvals()).find((a) => a.id === proposal!.id);
    assert.equal(decided?.status, 'approved');
    assert.match(decided?.decidedBy ?? '', /approver@contoso\.dev/);
  });

  it('an auditor reads every page by keyboard and has no enabled action; the audit page shows the verified chain; signing out drops the token', async () => {
    const { page } = await signIn('auditor@contoso.dev');
    await page.getByRole('link', { name: KEY }).waitFor();
    assert.equal(await enabledActions(page), 0);
    await page.goto(`${consoleUrl}#/keys/${KEY}`);
    await page.getByRole('img', { name: /decrypts allowed/ }).waitFor();
    await page.locator('.action').nth(5).waitFor();
    assert.ok((await page.locator('.action').count()) >= 6, 'the actions are shown (disabled)');
    assert.equal(await enabledActions(page), 0);
    await page.goto(`${consoleUrl}#/approvals`);
    await page.getByRole('heading', { name: 'Decided' }).waitFor();
    assert.equal(await enabledActions(page), 0);

    // Keyboard only: Tab from the top reaches the Audit link, Enter opens it.
    await page.goto(`${consoleUrl}#/keys`);
    await page.getByRole('link', { name: KEY }).waitFor();
    const focused: string[] = [];
    for (let i = 0; i < 8 && focused.at(-1) !== 'Audit'; i += 1) {
      await page.keyboard.press('Tab');
      focused.push(await page.evaluate('document.activeElement.textContent.trim()'));
    }
    assert.equal(focused.at(-1), 'Audit', `focus went: ${focused.join(' → ')}`);
    await page.keyboard.press('Enter');
    await page.getByText(/Chain verified/).waitFor();
    assert.match(await page.getByRole('status').filter({ hasText: 'Chain verified' }).innerText(), /all \d+ entries are intact/);
    const rows = page.getByRole('region', { name: 'Audit entries' }).locator('tbody tr');
    // The entries load beside the chain check, not after it: wait for the sixth row itself, then count.
    await rows.nth(5).waitFor();
    assert.ok((await rows.count()) > 5);
    // Paging: a hundred refusals more (through the store's audit writer) make a second page, read on demand.
    for (let i = 0; i < 100; i += 1) await env.service.audit.append({ actor: 'mallory@contoso.dev', action: 'decrypt', keyName: 'finance-restricted', outcome: 'denied', reason: 'not allowed' });
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.getByText('100 entries, newest first; older entries match too.').waitFor();
    await page.getByRole('button', { name: 'Older entries' }).click();
    await rows.nth(100).waitFor();
    assert.equal(await page.getByRole('button', { name: 'Older entries' }).count(), 0, 'the second page is the last');
    // A page of older entries that comes back after the filters changed is dropped: it belongs to filters no longer on
    // screen. The older page's request is held until the new filters' answer is shown, then let through.
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.getByText('100 entries, newest first; older entries match too.').waitFor();
    let releaseOlder: () => void = () => undefined;
    const olderHeld = new Promise<void>((resolve) => (releaseOlder = resolve));
    const olderPage = /\/admin\/api\/audit\?.*before=/;
    await page.route(olderPage, async (route) => {
      await olderHeld;
      await route.continue();
    });
    await page.getByRole('button', { name: 'Older entries' }).click();
    await page.getByLabel('Action', { exact: true }).fill('decrypt');
    await page.getByLabel('Key').fill(KEY);
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.getByText('3 entries, newest first').waitFor();
    const olderFinished = page.waitForEvent('requestfinished', (request) => olderPage.test(request.url()));
    releaseOlder();
    await olderFinished;
    await page.unroute(olderPage);
    await page.waitForTimeout(200);
    assert.equal(await rows.count(), 3, 'the older page of the earlier filters was not appended');
    // Filters, applied by the service: action and key.
    await page.getByLabel('Action', { exact: true }).fill('decrypt');
    await page.getByLabel('Key').fill(KEY);
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.getByText('3 entries, newest first').waitFor();
    // Admin actions only: the grant the key was created with is among them, with its details.
    await page.getByLabel('Action', { exact: true }).fill('');
    await page.getByLabel('Show').selectOption('admin');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    const grant = rows.filter({ hasText: 'grant' });
    await grant.first().waitFor();
    assert.equal(await rows.filter({ has: page.getByRole('cell', { name: 'decrypt', exact: true }) }).count(), 0, 'no decrypt decision among the admin actions');
    await grant.getByText(`kind: users, value: ${USER}`).click();
    await grant.getByText('Previous hash').waitFor();
    assert.deepEqual(await seriousViolations(page), []);
    await page.screenshot({ path: `${SHOTS}/audit.png`, fullPage: true });
    // The export of what the filters select: a CSV download named by the service, one line per entry shown.
    const shown = await rows.count();
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export CSV' }).click()]);
    assert.match(download.suggestedFilename(), /^dke-audit-\d{8}T\d{6}Z\.csv$/);
    const csv = readFileSync((await download.path())!, 'utf8');
    assert.equal(csv.trimEnd().split('\r\n').length, shown + 1, 'a header row and the entries shown');

    // Contract §9: the Vaults page, one vault "default" here (the DKE_PKCS11_* token), holding this test's versions.
    await page.getByRole('link', { name: 'Vaults' }).click();
    const vault = page.getByRole('row', { name: /^default/ });
    await vault.waitFor();
    assert.match(await vault.innerText(), /Default for new keys\s+active\s+up/);
    await page.getByText(/Last self-test of the served versions/).waitFor();
    assert.deepEqual(await seriousViolations(page), []);

    await page.getByRole('link', { name: 'Health' }).click();
    await page.getByRole('row', { name: /hsm/ }).waitFor();
    assert.match(await page.getByText(/This instance is/).innerText(), /ready/);
    assert.deepEqual(await seriousViolations(page), []);

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('button', { name: 'Sign in with Microsoft Entra ID' }).waitFor();
    await page.goto(`${consoleUrl}#/keys`);
    await page.getByRole('button', { name: 'Sign in with Microsoft Entra ID' }).waitFor();
    assert.equal(await page.getByRole('link', { name: KEY }).count(), 0);
  });
});
