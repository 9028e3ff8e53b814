// Debian's chromium through playwright-core (which never downloads a browser), launched as the
// project's browser tests launch it, and a record of every page error and console error.
import { execFileSync } from 'node:child_process';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

export function chromiumPath(): string | undefined {
  try {
    return execFileSync('sh', ['-c', 'command -v chromium'], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

const ARGS: readonly string[] = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

export function launchChromium(executablePath: string, extraArgs: readonly string[] = []): Promise<Browser> {
  return chromium.launch({ executablePath, headless: true, timeout: 15_000, args: [...ARGS, ...extraArgs] });
}

/** A browser profile of its own (a user-data directory): what a second person's browser is to an app. */
export function launchChromiumProfile(executablePath: string, userDataDir: string): Promise<BrowserContext> {
  return chromium.launchPersistentContext(userDataDir, {
    executablePath,
    headless: true,
    timeout: 15_000,
    viewport: { width: 800, height: 600 },
    args: [...ARGS],
  });
}

/** Collects uncaught errors and console errors of `page` into `errors`. */
export function recordErrors(page: Page, errors: string[]): void {
  page.on('pageerror', (err) => errors.push(`pageerror: ${err.message}`));
  page.on('console', (msg) => {
    // A refused WebSocket while the server is down is logged by the browser itself, not by us.
    if (msg.type() === 'error' && !msg.text().includes('WebSocket connection to'))
      errors.push(`console: ${msg.text()}`);
  });
}
