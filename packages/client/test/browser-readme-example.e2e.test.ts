// The README's browser example (examples/browser/, verbatim in the README) bundled with esbuild
// and run in two Chromium tabs against a real coordinator: a todo typed in one tab shows in the
// other, and the server gets it.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { chromiumPath, launchChromium, recordErrors } from '../../coordinator/test/support/chromium.js';
import { bundlePage, servePage, type PageServer } from './browser/page-server.js';
import { FAST, Harness } from './harness.js';

const executablePath = chromiumPath();
const runIt = executablePath !== undefined || process.env.CI !== undefined;
const example = (file: string): string => readFileSync(new URL(`../examples/browser/${file}`, import.meta.url), 'utf8');

describe.runIf(runIt)('README browser example', () => {
  let browser: Browser;
  let pages: PageServer;
  const h = new Harness();

  beforeAll(async () => {
    if (executablePath === undefined) throw new Error('chromium is not installed (apt-get install -y chromium)');
    const script = await bundlePage(fileURLToPath(new URL('../examples/browser/app.ts', import.meta.url)));
    pages = await servePage(script, example('index.html'));
    browser = await launchChromium(executablePath);
  });
  afterAll(async () => {
    await browser?.close();
    await pages?.close();
    await h.dispose();
  });

  it('is in the README, and two tabs of it sync', async () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    expect(readme).toContain(example('app.ts').trim());
    expect(readme).toContain(example('index.html').trim());

    const coord = await h.coordinator();
    const errors: string[] = [];
    const context = await browser.newContext();
    const [one, two] = [await context.newPage(), await context.newPage()];
    for (const tab of [one, two]) {
      recordErrors(tab, errors);
      await tab.goto(`${pages.url}?sync=${encodeURIComponent(coord.url)}`);
    }
    await one.locator('#status', { hasText: 'tab slot 0: synced' }).waitFor({ timeout: 10_000 });
    await two.locator('#status', { hasText: 'tab slot 1: synced' }).waitFor({ timeout: 10_000 });

    await one.fill('input[name=title]', 'Buy milk');
    await one.press('input[name=title]', 'Enter');
    await two.locator('#todos li', { hasText: 'Buy milk' }).waitFor({ timeout: 10_000 });

    const db = h.memoryDb();
    const client = h.client(db, FAST);
    await h.connectAll(coord.url, 'demo:todos', client);
    await expect.poll(() => db.list('todos').map((r) => r['title'])).toEqual(['Buy milk']);
    await context.close();
    expect(errors).toEqual([]);
  });
});
