// Debian's chromium through playwright-core (which never downloads a browser), launched as the
// project's browser tests launch it, and a record of every page error and console error.
import { execFileSync } from 'node:child_process';
import { chromium, type Browser, type Page } from 'playwright-core';

export function chromiumPath(): string | undefined {
  try {
    return execFileSync('sh', ['-c', 'command -v chromium'], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

export function launchChromium(executablePath: string, extraArgs: readonly string[] = []): Promise<Browser> {
  return chromium.launch({
    executablePath,
    headless: true,
    timeout: 15_000,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      ...extraArgs,
    ],
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
