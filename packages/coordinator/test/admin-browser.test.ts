// The admin page in headless Chromium (Debian's chromium driven by playwright-core): log in with
// the form, see the databases with their session counts, click into one and its data browser,
// with no script error or CSP violation; a screenshot is saved for a person to look at.
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { encodeSiteId, newSiteId } from '@syncord/core';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumPath, launchChromium } from './support/chromium.js';
import { wire, writeRow } from './support/change-sets.js';
import { startTestServer, type TestServer } from './support/test-server.js';
import { TestClient } from './support/ws-client.js';

const SCREENSHOTS = fileURLToPath(new URL('../../../test-output/screenshots/', import.meta.url));
const ADMIN_TOKEN = 'browser-admin-token';
const SYNC_TOKEN = 'browser-sync-token';
const WAIT_MS = 10_000;

const executablePath = chromiumPath();
// CI installs chromium (.ci/run), so there a missing browser is a failure, not a skip.
const runIt = executablePath !== undefined || process.env.CI !== undefined;

describe.runIf(runIt)('the admin page in Chromium', () => {
  let srv: TestServer;
  let browser: Browser;
  const clients: TestClient[] = [];

  /** A WebSocket session; with auth on the origin check is strict, so it writes as `site`. */
  async function session(databaseId: string, site = newSiteId()): Promise<TestClient> {
    const client = await TestClient.open(srv.ws, { headers: { authorization: `Bearer ${SYNC_TOKEN}` } });
    clients.push(client);
    const ack = await client.handshake({ databaseId, siteId: encodeSiteId(site), token: SYNC_TOKEN });
    expect(ack.type).toBe('handshake_ack');
    return client;
  }

  beforeAll(async () => {
    if (executablePath === undefined) throw new Error('chromium is not installed (apt-get install -y chromium)');
    srv = await startTestServer({
      config: { auth: { mode: 'token-whitelist', tokens: [SYNC_TOKEN] }, admin: { token: ADMIN_TOKEN } },
    });
    const site = newSiteId();
    const writer = await session('acme:notes', site);
    await session('acme:notes');
    await session('beta:tasks');
    writer.send({
      type: 'apply_changes',
      requestId: 'w1',
      changes: [
        wire(writeRow(site, 'notes', [1], { title: 'hello', done: 0 })),
        wire(writeRow(site, 'notes', [2], { title: '<img src=x onerror=alert(1)>', done: 1 })),
      ],
    });
    expect((await writer.waitFor('apply_result')).applied).toBe(4);
    browser = await launchChromium(executablePath);
  });

  afterAll(async () => {
    await browser?.close();
    for (const c of clients) await c.close();
    await srv?.stop();
  });

  it('logs in, lists the databases with their sessions and browses a table', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    page.setDefaultTimeout(WAIT_MS);
    const login = await page.goto(`${srv.http}/admin`);
    expect(login?.status()).toBe(401);
    await page.fill('input[name="token"]', ADMIN_TOKEN);
    // Watched from here: the login page's own 401 is logged as a failed load.
    const problems: string[] = [];
    page.on('pageerror', (err) => problems.push(err.message));
    page.on('console', (msg) => {
      if (msg.type() === 'error') problems.push(msg.text());
    });
    page.on('dialog', (dialog) => {
      problems.push(`dialog: ${dialog.message()}`);
      void dialog.dismiss();
    });
    await Promise.all([page.waitForURL(`${srv.http}/admin`), page.click('button[type="submit"]')]);

    const rows = page.locator('[data-testid="database-row"]');
    await expect.poll(() => rows.count(), { timeout: WAIT_MS }).toBe(2);
    const listed = await rows.evaluateAll((trs) =>
      trs.map((tr) => ({
        id: tr.querySelector('[data-testid="database-id"]')?.textContent,
        sessions: tr.querySelector('[data-testid="session-count"]')?.textContent,
      })),
    );
    expect(listed).toEqual([
      { id: 'acme:notes', sessions: '2' },
      { id: 'beta:tasks', sessions: '1' },
    ]);
    await expect
      .poll(() => page.locator('[data-testid="tile-connections"] .value').textContent(), { timeout: WAIT_MS })
      .toBe('3');
    // Rates need two samples (one poll apart).
    await expect
      .poll(() => page.locator('[data-testid="tile-applied"] .value').textContent(), { timeout: WAIT_MS })
      .toMatch(/^\d/);

    await page.click('[data-testid="database-row"][data-database-id="acme:notes"]');
    await page.click('[data-testid="table-row"][data-table="main.notes"]');
    const dataRows = page.locator('[data-testid="data-row"]');
    await expect.poll(() => dataRows.count(), { timeout: WAIT_MS }).toBe(2);
    const text = await page.locator('#rows').innerText();
    expect(text).toContain('"hello"');
    // A stored value that looks like HTML is shown as text, never run.
    expect(text).toContain('<img src=x onerror=alert(1)>');
    expect(await page.locator('#rows [data-testid="cell"] .meta').first().innerText()).toMatch(/#0 · /);

    mkdirSync(SCREENSHOTS, { recursive: true });
    await page.screenshot({ path: `${SCREENSHOTS}admin.png`, fullPage: true });
    expect(problems).toEqual([]);
    await page.close();
  });
});
