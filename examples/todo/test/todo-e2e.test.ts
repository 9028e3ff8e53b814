// The todo example end to end, in Debian's chromium driven by playwright-core: the built app is
// served by a real coordinator (one origin for the page and /sync/ws); two browser profiles sync
// live, one goes offline with the sync toggle and converges on reconnect, a reload with the
// server stopped still shows the data and takes writes that reach the other profile once the
// server is back, and two tabs of one profile see each other. Screenshots of each step are kept.
import { execFile } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { LocalDatabase, SyncClient } from '@syncord/client';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  chromiumPath,
  launchChromiumProfile,
  recordErrors,
} from '../../../packages/coordinator/test/support/chromium.js';
import { startTestServer, tempDir, type TestServer } from '../../../packages/coordinator/test/support/test-server.js';
import { DATABASE_ID } from '../src/schema.js';

const SCREENSHOTS = fileURLToPath(new URL('../../../test-output/screenshots/todo-e2e/', import.meta.url));
const WAIT_MS = 20_000;
const STEP_MS = 90_000;

/**
 * A production build, as `npm run example` makes it. In a child process: under vitest NODE_ENV is
 * `test`, which would give a development build of React and no service worker.
 */
function buildApp(outDir: string): Promise<void> {
  const script = fileURLToPath(new URL('../build.ts', import.meta.url));
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', script, outDir],
      { env: { ...process.env, NODE_ENV: 'production' }, timeout: 60_000 },
      (error, _stdout, stderr) => (error ? reject(new Error(`building the app failed: ${stderr}`)) : resolve()),
    );
  });
}

const executablePath = chromiumPath();
// CI installs chromium (.ci/run), so there a missing browser is a failure, not a skip.
const runIt = executablePath !== undefined || process.env.CI !== undefined;

describe.runIf(runIt)('the todo example in Chromium', () => {
  const scratch = tempDir('syncord-todo-e2e-');
  const appDir = path.join(scratch, 'app');
  const dataDir = path.join(scratch, 'data');
  const problems: string[] = [];
  let srv: TestServer | undefined;
  let port = 0;
  let alice: BrowserContext;
  let bob: BrowserContext;
  let alicePage: Page;
  let bobPage: Page;

  const origin = (): string => `http://127.0.0.1:${port}`;

  async function startServer(): Promise<void> {
    srv = await startTestServer({ staticDir: appDir, dataDir, config: { port } });
    port = Number(new URL(srv.origin).port);
  }

  async function stopServer(): Promise<void> {
    await srv?.stop();
    srv = undefined;
  }

  const profile = (name: string): Promise<BrowserContext> =>
    launchChromiumProfile(executablePath ?? 'chromium', path.join(scratch, `profile-${name}`));

  /** A page of the app in `context`, watched for script errors, once it is synced. */
  async function openApp(context: BrowserContext): Promise<Page> {
    const page = await context.newPage();
    page.setDefaultTimeout(WAIT_MS);
    recordErrors(page, problems);
    await page.goto(`${origin()}/`);
    await expectState(page, 'synced');
    return page;
  }

  const titles = (page: Page): Promise<string[]> =>
    page.locator('[data-testid="todo-item"] [data-testid="todo-title"]').allTextContents();

  async function expectTitles(page: Page, expected: string[]): Promise<void> {
    await expect.poll(async () => (await titles(page)).sort(), { timeout: WAIT_MS }).toEqual([...expected].sort());
  }

  async function expectState(page: Page, state: string): Promise<void> {
    await page.locator(`[data-testid="sync-status"][data-state="${state}"]`).waitFor();
  }

  async function pending(page: Page): Promise<number> {
    return Number(await page.getByTestId('sync-status').getAttribute('data-pending'));
  }

  async function addTodo(page: Page, title: string): Promise<void> {
    await page.getByTestId('new-todo').fill(title);
    await page.getByTestId('new-todo').press('Enter');
  }

  const item = (page: Page, title: string) =>
    page.getByTestId('todo-item').filter({ has: page.getByTestId('todo-title').getByText(title, { exact: true }) });

  async function shot(page: Page, name: string): Promise<void> {
    const file = path.join(SCREENSHOTS, `${name}.png`);
    await page.screenshot({ path: file, fullPage: true });
    console.log(`screenshot: ${file}`);
  }

  beforeAll(async () => {
    if (executablePath === undefined) throw new Error('chromium is not installed (apt-get install -y chromium)');
    mkdirSync(SCREENSHOTS, { recursive: true });
    await buildApp(appDir);
    await startServer();
    [alice, bob] = await Promise.all([profile('alice'), profile('bob')]);
    alicePage = await openApp(alice);
    bobPage = await openApp(bob);
    // The shell must be cached before the outage test takes the server away.
    for (const page of [alicePage, bobPage]) {
      await page.evaluate(async () => void (await navigator.serviceWorker.ready));
    }
  }, 120_000);

  afterAll(async () => {
    await alice?.close();
    await bob?.close();
    await stopServer();
    rmSync(scratch, { recursive: true, force: true });
  });

  it(
    'two profiles sync adds, toggles, edits and deletes live',
    async () => {
      await addTodo(alicePage, 'Buy milk');
      await expectTitles(bobPage, ['Buy milk']);

      await item(bobPage, 'Buy milk').getByTestId('todo-toggle').check();
      await expect.poll(() => item(alicePage, 'Buy milk').getAttribute('data-done'), { timeout: WAIT_MS }).toBe('true');

      await item(alicePage, 'Buy milk').getByTestId('todo-title').dblclick();
      await alicePage.getByTestId('todo-edit').fill('Buy oat milk');
      await alicePage.getByTestId('todo-edit').press('Enter');
      await expectTitles(bobPage, ['Buy oat milk']);

      await addTodo(alicePage, 'Walk the dog');
      await expectTitles(bobPage, ['Buy oat milk', 'Walk the dog']);
      await item(bobPage, 'Walk the dog').getByTestId('todo-delete').click();
      await expectTitles(alicePage, ['Buy oat milk']);
      await expectState(alicePage, 'synced');
      await shot(alicePage, '1-alice-live');
      await shot(bobPage, '1-bob-live');
    },
    STEP_MS,
  );

  it(
    'with sync off a profile keeps its writes local and receives nothing, then converges when back on',
    async () => {
      const toggle = alicePage.getByTestId('sync-toggle');
      await toggle.click();
      // A client connected all along: once it has Bob's write, the server has broadcast it.
      const observerDb = LocalDatabase.open();
      const observer = new SyncClient(observerDb);
      try {
        await expectState(alicePage, 'offline');
        await observer.connect(`ws://127.0.0.1:${port}/sync/ws`, DATABASE_ID);
        await observer.whenSynced({ timeoutMs: WAIT_MS });
        await addTodo(alicePage, 'Written offline');
        await expectTitles(alicePage, ['Buy oat milk', 'Written offline']);
        await addTodo(bobPage, 'Written online');
        await expect
          .poll(() => observerDb.list('todos').map((row) => row['title']), { timeout: WAIT_MS })
          .toContain('Written online');
        expect(observerDb.list('todos').map((row) => row['title'])).not.toContain('Written offline');
        expect(await titles(alicePage)).not.toContain('Written online');
        expect(await titles(bobPage)).not.toContain('Written offline');
        await shot(alicePage, '2-alice-offline');
        expect(await pending(alicePage)).toBe(1);
        expect(await alicePage.getByTestId('sync-status').textContent()).toMatch(/1 change saved locally/);
      } finally {
        await observer.disconnect();
        observerDb.close();
        // Back online even when an assertion failed, so the next tests start connected.
        if ((await toggle.getAttribute('aria-pressed')) === 'true') await toggle.click();
      }

      const all = ['Buy oat milk', 'Written offline', 'Written online'];
      await expectTitles(alicePage, all);
      await expectTitles(bobPage, all);
      await expectState(alicePage, 'synced');
      expect(await pending(alicePage)).toBe(0);
      await shot(bobPage, '2-bob-converged');
    },
    STEP_MS,
  );

  it(
    'with the server stopped a reload still shows the data and takes writes, which reach the other profile once it is back',
    async () => {
      const before = ['Buy oat milk', 'Written offline', 'Written online'];
      await stopServer();
      try {
        await expectState(alicePage, 'offline');
        await expectState(bobPage, 'offline');

        await alicePage.reload();
        // The shell comes from the service worker (nothing answers on the port)…
        await alicePage.getByTestId('new-todo').waitFor();
        await shot(alicePage, '3-alice-reloaded-server-down');
        // …and the data from the persistent replica.
        await expectTitles(alicePage, before);
        await addTodo(alicePage, 'Written in the outage');
        await expectTitles(alicePage, [...before, 'Written in the outage']);
        // The unsent write survives a reload too.
        await alicePage.reload();
        await expectTitles(alicePage, [...before, 'Written in the outage']);
        await expectState(alicePage, 'offline');
        expect(await pending(alicePage)).toBe(1);
        await shot(alicePage, '3-alice-reloaded-twice-in-outage');
      } finally {
        await startServer();
      }
      // Bob does nothing: his client reconnects by itself and receives the outage's write.
      await expectTitles(bobPage, [...before, 'Written in the outage']);
      await expectState(alicePage, 'synced');
      await shot(bobPage, '3-bob-after-outage');
    },
    STEP_MS,
  );

  it(
    'two tabs of one profile see each other’s writes',
    async () => {
      await expectState(alicePage, 'synced');
      const current = await titles(alicePage);
      const secondTab = await openApp(alice);
      await expectTitles(secondTab, current);
      await addTodo(secondTab, 'From the second tab');
      await expectTitles(alicePage, [...current, 'From the second tab']);
      await item(alicePage, 'From the second tab').getByTestId('todo-toggle').check();
      await expect
        .poll(() => item(secondTab, 'From the second tab').getAttribute('data-done'), { timeout: WAIT_MS })
        .toBe('true');
      await shot(secondTab, '4-alice-second-tab');
      await secondTab.close();
    },
    STEP_MS,
  );

  it('no page raised a script error', () => {
    expect(problems).toEqual([]);
  });
});
