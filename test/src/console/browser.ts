import { mkdirSync } from 'node:fs';
import path from 'node:path';
import axe from 'axe-core';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { startE2eApiWithSandbox, type E2eApi, type E2eApiWithSandbox } from '../support/api-server.js';
import { e2eConfig } from '../support/e2e-environment.js';

/** Debian's chromium package; the suites never download a browser of their own. */
export const chromiumPath = process.env.GIGLEDGER_CHROMIUM ?? '/usr/bin/chromium';

/** Headless Chromium for the console suites; close it in afterAll. */
export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    // Root in CI cannot use Chromium's user-namespace sandbox.
    args: process.getuid?.() === 0 ? ['--no-sandbox'] : [],
  });
}

/**
 * The e2e API, with the sandbox settlement provider confirming after 100 ms, and a
 * Chromium for the enclosing `describe`: started in its `beforeAll`, closed in its
 * `afterAll`. The returned function answers both inside the suite's tests and hooks.
 *
 * @throws Error when the returned function is called before the suite's `beforeAll` has run.
 */
export function consoleSuite(): () => { api: E2eApi; browser: Browser } {
  let moneyLoop: E2eApiWithSandbox | undefined;
  let browser: Browser | undefined;
  beforeAll(async () => {
    moneyLoop = await startE2eApiWithSandbox(e2eConfig(), { callbackDelayMs: 100 });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await moneyLoop?.close();
  });
  return () => {
    if (moneyLoop === undefined || browser === undefined) {
      throw new Error('the console suite starts in beforeAll; ask for it inside a test or a later hook');
    }
    return { api: moneyLoop.api, browser };
  };
}

/**
 * A page in its own context (its own memory, so its own session), recording every policy
 * violation the page reports and every error the browser logs (a refused request logs one).
 */
export async function openPage(
  browser: Browser,
  options: { timezoneId?: string } = {},
): Promise<{ context: BrowserContext; page: Page; policyViolations: string[]; loggedErrors: string[] }> {
  const context = await browser.newContext({ viewport: { width: 1366, height: 900 }, ...options });
  const page = await context.newPage();
  const policyViolations: string[] = [];
  const loggedErrors: string[] = [];
  page.on('console', (message) => {
    if (/Content Security Policy/i.test(message.text())) policyViolations.push(message.text());
    if (message.type() === 'error') loggedErrors.push(message.text());
  });
  page.on('pageerror', (error) => {
    policyViolations.push(`page error: ${error.message}`);
  });
  return { context, page, policyViolations, loggedErrors };
}

/**
 * What the page's layout gets wrong at its current viewport: a page wider than the
 * viewport (the reader must scroll sideways), a header link or button broken over two
 * lines, a header item drawn past the viewport's edge, or a short id or organisation
 * label (`(A-100)`, `(ClientOrgMSP)`) broken over lines. Empty when none.
 */
export async function layoutFaults(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const faults: string[] = [];
    const width = document.documentElement.clientWidth;
    if (document.documentElement.scrollWidth > width) {
      faults.push(
        `the page is ${String(document.documentElement.scrollWidth)} px wide in a ${String(width)} px viewport`,
      );
    }
    // Links and buttons keep their words together; the signed-in person's id may wrap.
    for (const item of Array.from(document.querySelectorAll<HTMLElement>('header.top nav a, header.top button'))) {
      if (
        item.getClientRects().length > 1 ||
        item.getBoundingClientRect().height > 2 * parseFloat(getComputedStyle(item).lineHeight)
      ) {
        faults.push(`"${item.textContent.trim()}" is broken over two lines`);
      }
    }
    for (const item of Array.from(
      document.querySelectorAll<HTMLElement>('header.top nav a, header.top .account > *'),
    )) {
      const box = item.getBoundingClientRect();
      if (box.left < 0 || box.right > width)
        faults.push(`"${item.textContent.trim()}" is drawn past the viewport's edge`);
    }
    // Short ids and "(MSP id)" labels stay on one line: their text lies in one line box.
    for (const item of Array.from(document.querySelectorAll<HTMLElement>('.whole'))) {
      const range = document.createRange();
      range.selectNodeContents(item);
      const lines = new Set(Array.from(range.getClientRects(), (rect) => Math.round(rect.top)));
      if (lines.size > 1 && item.textContent.length <= 40) faults.push(`"${item.textContent}" is broken over lines`);
    }
    return faults;
  });
}

/** Signs in through the console's own sign-in page and waits for the navigation to name the person. */
export async function signIn(page: Page, baseUrl: string, userId: string, password: string): Promise<void> {
  await openSigningIn(page, baseUrl, '/sign-in', userId, password);
  await page.getByTestId('signed-in-as').filter({ hasText: userId }).waitFor();
}

/**
 * Opens a console page by its address (`path` under /console), as a link followed from
 * elsewhere does, and signs in on the sign-in page it leads to first (the session lives in
 * the page's memory only, so a new address starts signed out).
 */
export async function openSigningIn(
  page: Page,
  baseUrl: string,
  path: string,
  userId: string,
  password: string,
): Promise<void> {
  await page.goto(`${baseUrl}/console${path}`);
  await page.getByLabel('User id').fill(userId);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

/**
 * Turns a list's page from the keyboard, as a keyboard user does: focuses the `button` of
 * the page navigation named `label`, presses Enter, waits for page `pageNumber` and then
 * for `arrived` (something only that page shows). Resolves to the text of the element
 * holding the focus once the page has arrived: the button, unless the page dropped the
 * focus while it changed.
 */
export async function turnPageByKeyboard(
  page: Page,
  label: string,
  button: 'Next page' | 'Previous page',
  pageNumber: number,
  arrived: () => Promise<void>,
): Promise<string | undefined> {
  const pages = page.getByRole('navigation', { name: label });
  await pages.getByRole('button', { name: button }).focus();
  await page.keyboard.press('Enter');
  await pages.getByText(`Page ${String(pageNumber)}`, { exact: true }).waitFor();
  await arrived();
  return page.evaluate(() => document.activeElement?.textContent);
}

/**
 * axe-core's serious and critical violations of WCAG 2.x A and AA on the page as it is
 * now. The script goes in through the DevTools protocol, which the page's policy does not
 * govern, so the page's own policy stays as strict as in production.
 */
export async function seriousViolations(page: Page): Promise<string[]> {
  await page.evaluate(axe.source);
  const results = await page.evaluate(async () => {
    const run = (globalThis as unknown as { axe: typeof axe }).axe.run;
    const found = await run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
    });
    return found.violations.map((violation) => ({
      id: violation.id,
      impact: violation.impact ?? null,
      targets: violation.nodes.map((node) => node.target.join(' ')),
    }));
  });
  return results
    .filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
    .map((violation) => `${violation.id} (${violation.impact ?? ''}): ${violation.targets.join(', ')}`);
}

/**
 * Saves a screenshot for the README when GIGLEDGER_CONSOLE_SCREENSHOTS names a directory
 * (`npm run console:screenshots`); does nothing otherwise.
 */
export async function screenshot(page: Page, name: string): Promise<void> {
  const directory = process.env.GIGLEDGER_CONSOLE_SCREENSHOTS;
  if (directory === undefined || directory === '') return;
  mkdirSync(directory, { recursive: true });
  await page.screenshot({ path: path.join(directory, `${name}.png`), fullPage: false });
}
