import { execFileSync, execSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import AxeBuilder from '@axe-core/playwright';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

/**
 * Support for the console's browser tests: Debian's Chromium driven by playwright-core (browsers cannot be
 * downloaded here), the console built by Vite when its sources are newer than the build, axe-core checks.
 */
export const ROOT = join(__dirname, '..', '..');
export const CONSOLE_DIST = join(ROOT, 'dist', 'console');
/**
 * Where the browser test writes its screenshots: a folder git ignores (var/), so `npm test` never changes a
 * tracked file; `UPDATE_SCREENSHOTS=true npm test` writes them to docs/screenshots (the ones the README shows).
 */
export const SCREENSHOTS =
  process.env['UPDATE_SCREENSHOTS'] === 'true'
    ? join(ROOT, 'docs', 'screenshots')
    : join(ROOT, 'var', 'screenshots');
const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';

/** installs Debian's chromium with apt when it is missing (as .ci/run does) */
export function ensureChromium(): string {
  if (!existsSync(CHROMIUM)) {
    execSync('apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium', {
      stdio: 'inherit',
      timeout: 900_000,
    });
  }
  return CHROMIUM;
}

function newest(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

/** builds the console (vite build → dist/console) unless the build is newer than every source file */
export function ensureConsoleBuilt(): void {
  const index = join(CONSOLE_DIST, 'index.html');
  const src = join(ROOT, 'apps', 'console');
  const sources = Math.max(
    newest(join(src, 'src')),
    statSync(join(src, 'index.html')).mtimeMs,
    statSync(join(src, 'vite.config.mts')).mtimeMs,
  );
  if (existsSync(index) && statSync(index).mtimeMs > sources) return;
  execFileSync(
    process.execPath,
    [
      join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js'),
      'build',
      '-c',
      join(src, 'vite.config.mts'),
      '--logLevel',
      'error',
    ],
    {
      cwd: ROOT,
      stdio: 'inherit',
      timeout: 300_000,
      env: { ...process.env, NODE_ENV: 'production' },
    },
  );
}

export async function launch(): Promise<Browser> {
  return chromium.launch({
    executablePath: ensureChromium(),
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-dev-shm-usage',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
      '--lang=it-IT',
    ],
  });
}

/** a fresh browser context (own cookies) signed in through the development sign-in page */
export async function signIn(
  browser: Browser,
  base: string,
  user: string,
  viewport = { width: 1280, height: 900 },
): Promise<{ ctx: BrowserContext; page: Page }> {
  const ctx = await browser.newContext({
    baseURL: base,
    viewport,
    locale: 'it-IT',
    timezoneId: 'Europe/Rome',
  });
  ctx.setDefaultTimeout(15_000);
  const page = await ctx.newPage();
  await page.goto('/accedi');
  await page.locator('#dev-user').selectOption(user);
  await page.getByRole('button', { name: 'Accedi' }).click();
  await page.getByTestId('who').waitFor();
  return { ctx, page };
}

/** signs out and in as another fixture user in the same page (the browser keeps its cached assets) */
export async function switchUser(page: Page, user: string): Promise<void> {
  await page.getByRole('button', { name: 'Esci' }).click();
  await page.locator('#dev-user').selectOption(user);
  await page.getByRole('button', { name: 'Accedi' }).click();
  await page.getByTestId('who').waitFor();
  if (!(await page.getByTestId('who').textContent())?.includes(' · ')) throw new Error('no user');
}

export interface AxeFinding {
  id: string;
  impact: string | null | undefined;
  help: string;
  nodes: string[];
}

/** serious and critical axe-core violations on the page as it is now (WCAG 2.0/2.1 A and AA rules) */
export async function seriousViolations(page: Page): Promise<AxeFinding[]> {
  const r = await new AxeBuilder({ page })
    .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'])
    .analyze();
  return r.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.slice(0, 5).map((n) => n.target.join(' ')),
    }));
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}
