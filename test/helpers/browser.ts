import fs from 'node:fs';
import puppeteer, { type Browser } from 'puppeteer-core';

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
