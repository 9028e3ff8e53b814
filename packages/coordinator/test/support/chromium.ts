// Debian's chromium for the browser tests, driven by playwright-core (which never downloads a
// browser): where it is, whether the tests run, and the flags every launch uses.
import { execFileSync } from 'node:child_process';

export function chromiumPath(): string | undefined {
  try {
    return execFileSync('sh', ['-c', 'command -v chromium'], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

/** CI installs chromium (.ci/run), so there a missing browser is a failure, not a skip. */
export function runBrowserTests(executablePath: string | undefined): boolean {
  return executablePath !== undefined || process.env.CI !== undefined;
}

/** Headless, no sandbox (root in CI), and nothing that reaches out to the network on its own. */
export const CHROMIUM_ARGS: readonly string[] = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];
