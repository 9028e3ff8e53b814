// The browser entry in real Chromium against a real coordinator: the replica persists in
// IndexedDB across a reload made while the server is down (data and unsent writes), the reload
// resumes with a catch-up rather than a snapshot, and two tabs see each other's writes at once,
// offline too, then converge with the server, each pushing only its own writes.
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { chromiumPath, launchChromium, recordErrors } from '../../coordinator/test/support/chromium.js';
import { bundlePage, servePage, type PageServer } from './browser/page-server.js';
import { FAST, Harness } from './harness.js';
import { startCoordinator, type Coordinator } from './helpers.js';

const executablePath = chromiumPath();
// CI installs chromium (.ci/run), so there a missing browser is a failure, not a skip.
const runIt = executablePath !== undefined || process.env.CI !== undefined;
const WAIT = { timeout: 10_000 };

interface Opened {
  slot: number;
  site: string;
  rows: { id: string }[];
}

describe.runIf(runIt)('persistent browser storage in Chromium', () => {
  let browser: Browser;
  let pages: PageServer;
  let h: Harness;
  let context: BrowserContext;
  let coordinator: Coordinator | undefined;
  let errors: string[];

  beforeAll(async () => {
    if (executablePath === undefined) throw new Error('chromium is not installed (apt-get install -y chromium)');
    pages = await servePage(await bundlePage());
    browser = await launchChromium(executablePath);
  });
  afterAll(async () => {
    await browser?.close();
    await pages?.close();
  });
  beforeEach(async () => {
    h = new Harness();
    errors = [];
    context = await browser.newContext();
  });
  afterEach(async () => {
    await context.close();
    await coordinator?.stop();
    coordinator = undefined;
    await h.dispose();
  });

  const serverDir = (): string => join(h.dir.path, 'server');
  async function startServer(port = 0): Promise<Coordinator> {
    coordinator = await startCoordinator({ dataDir: serverDir(), hooks: h.hooks(), port });
    return coordinator;
  }
  async function stopServer(): Promise<void> {
    await coordinator?.stop();
    coordinator = undefined;
  }
  async function newTab(): Promise<Page> {
    const page = await context.newPage();
    recordErrors(page, errors);
    await page.goto(pages.url);
    await page.waitForFunction(() => 't' in globalThis, undefined, WAIT);
    return page;
  }
  const open = (page: Page, url?: string): Promise<Opened> =>
    page.evaluate(
      ([u]) => (globalThis as never as { t: { open(n: string, u?: string): Promise<Opened> } }).t.open('todos', u),
      [url] as const,
    );
  const call = <T>(page: Page, fn: string, ...args: string[]): Promise<T> =>
    page.evaluate(
      ([f, a]) => (globalThis as never as Record<string, Record<string, (...x: string[]) => T>>)['t']![f]!(...a),
      [fn, args] as const,
    );
  const ids = (page: Page): Promise<string[]> => call<string[]>(page, 'ids');
  const waitForIds = (page: Page, expected: string[]): Promise<unknown> =>
    page.waitForFunction(
      (want) => JSON.stringify((globalThis as never as { t: { ids(): string[] } }).t.ids()) === JSON.stringify(want),
      expected,
      WAIT,
    );

  /** What the server holds, read by a fresh Node client. */
  async function serverIds(url: string): Promise<string[]> {
    const db = h.memoryDb();
    const client = h.client(db, FAST);
    await client.connect(url, 'browser:todos');
    await client.whenSynced();
    const out = db.list('todos', { orderBy: 'id' }).map((r) => String(r['id']));
    await client.disconnect();
    return out;
  }

  it('keeps data and unsent writes across a reload with the server down, then resumes with a catch-up', async () => {
    const server = await startServer();
    const tab = await newTab();
    const first = await open(tab, server.url);
    expect(first.slot).toBe(0);
    await call(tab, 'put', 'a', 'synced before');
    await call(tab, 'whenSynced');

    await stopServer();
    await call(tab, 'put', 'b', 'written offline');
    const opsBefore = h.ops.get(first.site)!.length;

    await tab.reload();
    await tab.waitForFunction(() => 't' in globalThis, undefined, WAIT);
    const again = await open(tab, server.url);
    // Same slot, same replica, and the rows are there before any connection.
    expect(again).toMatchObject({ slot: 0, site: first.site });
    expect(again.rows.map((r) => r.id)).toEqual(['a', 'b']);
    await call(tab, 'put', 'c', 'after the reload');

    await startServer(server.port);
    await call(tab, 'whenSynced');
    const after = h.ops.get(first.site)!.slice(opsBefore);
    expect(after).toContain('get_changes@since');
    expect(after).not.toContain('get_snapshot');
    expect(await call<string[]>(tab, 'states')).not.toContain('bootstrapping');
    // The unsent write went up once, with the one made after the reload.
    const pushedB = h.pushed.get(first.site)!.filter((cs) => cs.changes.some((ch) => ch.pk[0] === 'b'));
    expect(pushedB).toHaveLength(1);
    expect(await serverIds(coordinator!.url)).toEqual(['a', 'b', 'c']);
    expect(errors).toEqual([]);
  });

  it("takes over a closed tab's slot and pushes the writes it left unsent", async () => {
    const server = await startServer();
    const [one, two, three] = [await newTab(), await newTab(), await newTab()];
    const opened = [await open(one, server.url), await open(two, server.url), await open(three, server.url)];
    expect(opened.map((o) => o.slot)).toEqual([0, 1, 2]);
    await stopServer();
    await call(three, 'put', 'left-behind', 'written offline, then the tab closed');
    await waitForIds(one, ['left-behind']);
    await three.close();
    await two.close();

    // The new tab gets slot 1 and takes over slot 2, whose write nobody else would push.
    const four = await newTab();
    const fourth = await open(four, server.url);
    expect(fourth.slot).toBe(1);
    expect(fourth.rows.map((r) => r.id)).toEqual(['left-behind']);
    await startServer(server.port);
    await Promise.all([call(one, 'whenSynced'), call(four, 'whenSynced')]);
    expect(await serverIds(coordinator!.url)).toEqual(['left-behind']);
    const pushedBy = (site: string) =>
      (h.pushed.get(site) ?? []).filter((cs) => cs.changes.some((c) => c.pk[0] === 'left-behind'));
    expect(pushedBy(fourth.site)).toHaveLength(1);
    expect(pushedBy(opened[0]!.site)).toHaveLength(0);
    // Its database is gone: the next tab does not take it over again.
    const five = await newTab();
    expect((await open(five)).slot).toBe(2);
    expect(errors).toEqual([]);
  });

  it('compacts its log into one base image and reopens from it', async () => {
    const tab = await newTab();
    await open(tab);
    await call(tab, 'put', 'first', 'before');
    const before = await tab.evaluate(() =>
      (globalThis as never as { t: { logEntries(n: string): Promise<number> } }).t.logEntries('todos'),
    );
    expect(before).toBeGreaterThan(0);
    await tab.evaluate(() => (globalThis as never as { t: { bulk(n: number): Promise<void> } }).t.bulk(6000));
    // The compaction runs right after the commit burst; wait until the log is folded into the base.
    await tab.waitForFunction(
      async () =>
        (await (globalThis as never as { t: { logEntries(n: string): Promise<number> } }).t.logEntries('todos')) === 0,
      undefined,
      { ...WAIT, polling: 50 },
    );
    await call(tab, 'put', 'last', 'after');
    await tab.reload();
    await tab.waitForFunction(() => 't' in globalThis, undefined, WAIT);
    const again = await open(tab);
    expect(again.rows).toHaveLength(6002);
    expect(again.rows.map((r) => r.id)).toEqual(
      expect.arrayContaining(['first', 'last', 'bulk-000000', 'bulk-005999']),
    );
    expect(errors).toEqual([]);
  });

  it('shares writes between two tabs at once, offline too, and both converge with the server', async () => {
    const server = await startServer();
    const one = await newTab();
    const two = await newTab();
    const a = await open(one, server.url);
    const b = await open(two, server.url);
    expect([a.slot, b.slot]).toEqual([0, 1]);
    expect(a.site).not.toBe(b.site);

    await call(one, 'put', 'from-one', 'online');
    await waitForIds(two, ['from-one']);

    await stopServer();
    await call(two, 'put', 'from-two', 'offline');
    await waitForIds(one, ['from-one', 'from-two']);
    await call(one, 'put', 'one-offline', 'offline');
    await waitForIds(two, ['from-one', 'from-two', 'one-offline']);

    // A tab opened while both others are offline learns their writes from them.
    const three = await newTab();
    const c = await open(three);
    expect(c.slot).toBe(2);
    await waitForIds(three, ['from-one', 'from-two', 'one-offline']);
    await three.close();

    // A reloaded tab takes its own slot back.
    await two.reload();
    await two.waitForFunction(() => 't' in globalThis, undefined, WAIT);
    expect(await open(two, server.url)).toMatchObject({ slot: 1, site: b.site });
    expect(await ids(two)).toEqual(['from-one', 'from-two', 'one-offline']);

    await startServer(server.port);
    await Promise.all([call(one, 'whenSynced'), call(two, 'whenSynced')]);
    expect(await serverIds(coordinator!.url)).toEqual(['from-one', 'from-two', 'one-offline']);
    // Each tab pushed only its own writes.
    const pushedIds = (site: string) =>
      (h.pushed.get(site) ?? []).flatMap((cs) => cs.changes.map((ch) => String(ch.pk[0])));
    expect(new Set(pushedIds(a.site))).toEqual(new Set(['from-one', 'one-offline']));
    expect(new Set(pushedIds(b.site))).toEqual(new Set(['from-two']));
    expect(errors).toEqual([]);
  });
});
