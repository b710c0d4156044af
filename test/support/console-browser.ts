// The console's browser tests (test/web/*.test.ts) drive Debian's Chromium through playwright-core: one browser per
// file, one context per signed-in user, each watched for what it must not do (console errors, requests that leave
// loopback) and signed in at the development issuer's sign-in page, as `dke dev` wires it.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** What a browser context saw that it must not: console errors and requests to anything but loopback. */
export interface Watch {
  readonly consoleErrors: string[];
  readonly offLoopback: string[];
}

export interface SignedIn {
  readonly context: BrowserContext;
  readonly page: Page;
  readonly watch: Watch;
}

/** A headless Chromium with a fresh temporary profile of its own (removed when it closes). */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
}

/** Signs `upn` in to the console at `consoleUrl` in a new context; the token stays in the page's memory only. */
export async function signIn(browser: Browser, consoleUrl: string, upn: string, viewport = { width: 1280, height: 900 }): Promise<SignedIn> {
  const context = await browser.newContext({ viewport });
  const watch: Watch = { consoleErrors: [], offLoopback: [] };
  await context.route('**/*', (route) => {
    const url = new URL(route.request().url());
    if (LOOPBACK.has(url.hostname)) return route.continue();
    watch.offLoopback.push(url.toString());
    return route.abort();
  });
  const page = await context.newPage();
  page.on('console', (message) => {
    if (message.type() === 'error') watch.consoleErrors.push(message.text());
  });
  page.on('pageerror', (error) => watch.consoleErrors.push(String(error)));
  await page.goto(consoleUrl);
  await page.getByRole('button', { name: 'Sign in with Microsoft Entra ID' }).click();
  // The development issuer's sign-in page: one button per development user, named by its UPN.
  await page.getByRole('button', { name: upn, exact: true }).click();
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
  // The token lives in the page's memory only: no storage, no cookie, not in the address bar.
  assert.deepEqual(await page.evaluate('[localStorage.length, sessionStorage.length, document.cookie, location.search]'), [0, 0, '', '']);
  return { context, page, watch };
}

/** After a file's browser closed: nothing any of its contexts saw may have left loopback or failed in the console. */
export function assertWatched(contexts: readonly SignedIn[]): void {
  assert.deepEqual(contexts.flatMap(({ watch }) => watch.offLoopback), [], 'requests that left loopback');
  assert.deepEqual(contexts.flatMap(({ watch }) => watch.consoleErrors), [], 'browser console errors');
}

/** What axe-core finds serious or critical on the page as it is now (rule id and the elements). */
export async function seriousViolations(page: Page): Promise<string[]> {
  await page.evaluate(AXE_SOURCE);
  return page.evaluate(
    `axe.run(document).then((r) => r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => v.id + ': ' + v.nodes.map((n) => n.target.join(' ')).join(', ')))`,
  );
}
