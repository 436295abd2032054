import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';

/** Where distributions put Chromium; CHROMIUM_PATH names another. */
const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/snap/bin/chromium', '/usr/bin/google-chrome'];

/** The system's Chromium, or an error that says how to get one (scripts/setup.sh installs it on Debian and Ubuntu). */
export function chromiumPath(): string {
  const candidates = process.env.CHROMIUM_PATH ? [process.env.CHROMIUM_PATH] : CANDIDATES;
  const found = candidates.find((file) => fs.existsSync(file));
  if (found === undefined) {
    throw new Error(`No Chromium at ${candidates.join(', ')}: run scripts/setup.sh (Debian and Ubuntu), install it yourself, or set CHROMIUM_PATH.`);
  }
  return found;
}

/** A headless Chromium of the system's, driven through puppeteer-core (nothing downloaded). */
export function launchBrowser(): Promise<Browser> {
  return puppeteer.launch({
    executablePath: chromiumPath(),
    headless: true,
    // As root (CI) Chromium's sandbox cannot start; the pages are our own, on loopback.
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--font-render-hinting=none'],
  });
}

/** A headless browser with one page of 1280×800. */
export async function openPage(): Promise<{ browser: Browser; page: Page }> {
  const browser = await launchBrowser();
  const page = await browser.newPage();
  await page.setViewport({ width: 1280, height: 800 });
  return { browser, page };
}

/** Asks `check` every 250 ms until it says yes; fails naming `what` after `timeoutMs`. */
export async function until(check: () => Promise<boolean>, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/**
 * Where a console test saves its screenshots: docs/images/ with UPDATE_SCREENSHOTS=1 (the
 * pictures in docs/ui.md), else a temporary folder that `cleanUp` removes.
 */
export function screenshotFolder(name: string): { folder: string; update: boolean; cleanUp(): void } {
  const update = process.env.UPDATE_SCREENSHOTS === '1';
  const folder = update ? path.resolve(import.meta.dirname, '..', '..', 'docs', 'images') : fs.mkdtempSync(path.join(os.tmpdir(), `sluice-${name}-`));
  fs.mkdirSync(folder, { recursive: true });
  return { folder, update, cleanUp: () => (update ? undefined : fs.rmSync(folder, { recursive: true, force: true })) };
}
