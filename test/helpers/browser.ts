import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
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

/**
 * For the enclosing `describe`: a headless browser whose page of 1280×800 `open()` makes (in
 * its `before`), closed after its tests, and the folder for its screenshots.
 */
export function browserForTests(name: string): { shots: ReturnType<typeof screenshotFolder>; open(): Promise<Page> } {
  const shots = screenshotFolder(name);
  let browser: Browser | undefined;
  after(async () => {
    await browser?.close();
    shots.cleanUp();
  });
  return {
    shots,
    async open() {
      browser = await launchBrowser();
      const page = await browser.newPage();
      await page.setViewport({ width: 1280, height: 800 });
      return page;
    },
  };
}

/** Checks nothing is wider than the screen at that size, and saves what shows (or the whole page) as `<folder>/<name>.png`. */
export async function screenshot(page: Page, folder: string, name: string, width: number, height: number, fullPage = false): Promise<void> {
  await page.setViewport({ width, height });
  await new Promise((resolve) => setTimeout(resolve, 300));
  // Nothing wider than the screen: tables and graphs scroll in their own boxes.
  expect(await page.$eval('html', (n) => n.scrollWidth), `${name}: page width`).to.be.at.most(width);
  const file = path.join(folder, `${name}.png`);
  await page.screenshot({ path: file as `${string}.png`, fullPage });
  const png = fs.readFileSync(file);
  expect(png.subarray(1, 4).toString('latin1')).to.equal('PNG');
  expect(png.readUInt32BE(16), `${name}: width`).to.equal(width);
}
