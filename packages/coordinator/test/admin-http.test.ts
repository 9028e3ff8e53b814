// The admin page over HTTP against a real server: who may see it, the paged database list at
// hundreds of databases (opening none of them), and a database written through the normal apply
// path read back with its tables, rows, HLCs and origin sites.
import { copyFileSync, existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { encodeSiteId, newSiteId } from '@syncord/core';
import { defaultStorageName } from '@syncord/coordinator';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { wire, writeRow } from './support/change-sets.js';
import { startTestServer, type TestServer } from './support/test-server.js';
import { TestClient } from './support/ws-client.js';

const ADMIN_TOKEN = 'admin-secret-7f3a';
const SYNC_TOKEN = 'sync-token-1';
const S3_SECRET = 's3-secret-never-shown';

type Envelope = { ok: boolean; data?: Record<string, unknown>; error?: { code: string; message: string } };

async function getJson(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: Envelope }> {
  const res = await fetch(url, { headers });
  return { status: res.status, body: (await res.json()) as Envelope };
}

function postChanges(srv: TestServer, databaseId: string, body: unknown, token?: string): Promise<Response> {
  const site = newSiteId();
  return fetch(`${srv.http}/${databaseId}/changes`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-site-id': encodeSiteId(site),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify(body),
  });
}

describe('admin access', () => {
  const servers: TestServer[] = [];
  afterEach(async () => {
    for (const s of servers.splice(0)) await s.stop();
  });
  const start = async (config: Parameters<typeof startTestServer>[0]) => {
    const srv = await startTestServer(config);
    servers.push(srv);
    return srv;
  };

  it('is open with auth.mode none', async () => {
    const srv = await start({});
    const page = await fetch(`${srv.http}/admin`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(await page.text()).toContain('data-view="dashboard"');
    expect((await getJson(`${srv.http}/admin/api/overview`)).status).toBe(200);
  });

  it('is off (404, saying how to turn it on) with auth on and no admin.token', async () => {
    const srv = await start({ config: { auth: { mode: 'token-whitelist', tokens: [SYNC_TOKEN] } } });
    for (const url of [`${srv.http}/admin`, `${srv.http}/admin/api/overview`, `${srv.http}/admin/api/databases`]) {
      const { status, body } = await getJson(url, { authorization: `Bearer ${SYNC_TOKEN}` });
      expect(status).toBe(404);
      expect(body.error?.code).toBe('ADMIN_DISABLED');
      expect(body.error?.message).toContain('SYNC_ADMIN_TOKEN');
    }
  });

  it('takes admin.token as Bearer or through the login cookie, and never shows a secret', async () => {
    const srv = await start({
      config: {
        auth: { mode: 'token-whitelist', tokens: [SYNC_TOKEN] },
        admin: { token: ADMIN_TOKEN },
        s3: { secretAccessKey: S3_SECRET, accessKeyId: 'id' },
      },
    });
    const api = `${srv.http}/admin/api/overview`;
    expect((await getJson(api)).status).toBe(401);
    expect((await getJson(api, { authorization: 'Bearer wrong' })).status).toBe(401);
    expect((await getJson(api, { authorization: `Bearer ${SYNC_TOKEN}` })).status).toBe(401);
    const ok = await getJson(api, { authorization: `Bearer ${ADMIN_TOKEN}` });
    expect(ok.status).toBe(200);

    const login = await fetch(`${srv.http}/admin`);
    expect(login.status).toBe(401);
    expect(await login.text()).toContain('data-view="login"');
    const form = (token: string) =>
      fetch(`${srv.http}/admin/login`, {
        method: 'POST',
        redirect: 'manual',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ token }).toString(),
      });
    const refused = await form('nope');
    expect(refused.status).toBe(401);
    expect(refused.headers.get('set-cookie')).toBeNull();
    const accepted = await form(ADMIN_TOKEN);
    expect(accepted.status).toBe(303);
    expect(accepted.headers.get('location')).toBe('/sync/admin');
    const setCookie = accepted.headers.get('set-cookie') ?? '';
    expect(setCookie).toMatch(/HttpOnly/);
    expect(setCookie).toMatch(/SameSite=Strict/);
    expect(setCookie).not.toContain(ADMIN_TOKEN);
    const cookie = setCookie.split(';')[0]!;
    expect((await getJson(api, { cookie })).status).toBe(200);
    expect((await fetch(`${srv.http}/admin`, { headers: { cookie } })).status).toBe(200);
    expect((await getJson(api, { cookie: `${cookie}x` })).status).toBe(401);

    const everything = [
      JSON.stringify(ok.body),
      JSON.stringify((await getJson(`${srv.http}/admin/api/databases`, { cookie })).body),
      await (await fetch(`${srv.http}/admin`, { headers: { cookie } })).text(),
    ].join('\n');
    for (const secret of [ADMIN_TOKEN, SYNC_TOKEN, S3_SECRET]) expect(everything).not.toContain(secret);
  });
});

describe('admin data', () => {
  let srv: TestServer;
  const site = newSiteId();

  beforeAll(async () => {
    // Idle stores close on sweep() (no timer), so a test can close them and keep the server going.
    srv = await startTestServer({
      config: { admin: { maxPageSize: 100 }, stores: { idleCloseMs: 1, cleanupIntervalMs: 0 } },
    });
  });
  afterAll(() => srv.stop());
  const admin = (route: string) => getJson(`${srv.http}/admin/api${route}`);
  const closeIdle = async () => {
    await new Promise((resolve) => setTimeout(resolve, 5));
    await srv.server.service.stores.sweep();
  };

  it('lists 300 databases a bounded page at a time without opening any', async () => {
    // One real database file, copied: a closed database is a file in dataDir.
    expect((await postChanges(srv, 'seed', { changes: [wire(writeRow(site, 't', [1], { v: 1 }))] })).status).toBe(200);
    await closeIdle();
    const seed = path.join(srv.dataDir, `${defaultStorageName('seed')}.sqlite`);
    const ids = Array.from({ length: 300 }, (_, i) => `tenant:${String(i).padStart(3, '0')}`);
    for (const id of ids) copyFileSync(seed, path.join(srv.dataDir, `${defaultStorageName(id)}.sqlite`));
    writeFileSync(
      path.join(srv.dataDir, `${defaultStorageName('gone:one')}.sqlite.evicted`),
      JSON.stringify({ databaseId: 'gone:one', evictedAt: 1_700_000_000_000, image: 'k' }),
    );
    const opened: string[] = [];
    srv.server.service.stores.forEachOpen((id) => opened.push(id));
    expect(opened).toEqual([]);

    const first = await admin('/databases?limit=50');
    expect(first.status).toBe(200);
    const page = first.body.data as { total: number; items: { databaseId: string; state: string }[] };
    expect(page.total).toBe(302);
    expect(page.items).toHaveLength(50);
    expect(page.items[0]).toMatchObject({ databaseId: 'gone:one', state: 'evicted', evictedAt: 1_700_000_000_000 });
    expect(page.items[1]).toMatchObject({ databaseId: 'seed', state: 'closed', sessions: 0 });
    expect(page.items[2]).toMatchObject({ databaseId: 'tenant:000', state: 'closed' });

    const last = (await admin('/databases?offset=250&limit=100')).body.data as typeof page;
    expect(last.items.map((d) => d.databaseId)).toEqual(ids.slice(248));
    const filtered = (await admin('/databases?q=TENANT:29')).body.data as typeof page;
    expect(filtered.total).toBe(10);

    expect((await admin('/databases?limit=101')).body.error?.code).toBe('INVALID_QUERY');
    expect((await admin('/databases?limit=101')).status).toBe(400);
    expect((await admin('/databases?sort=size')).status).toBe(400);
    // The listing and the overview opened nothing.
    expect((await admin('/overview')).body.data).toMatchObject({
      databases: { open: 0, closed: 301, evicted: 1, total: 302 },
    });
    expect(srv.server.service.stores.openCount).toBe(0);
  });

  it('shows a database written through apply: sessions, tables with counts, rows with HLC and origin', async () => {
    const writer = newSiteId();
    const sets = [
      wire(writeRow(writer, 'notes', [1], { title: 'hello', n: 5n })),
      wire(writeRow(writer, 'notes', [2], { title: '<b>two</b>' })),
      wire(writeRow(writer, 'tags', ['x'], { label: 'red' })),
    ];
    const client = await TestClient.open(srv.ws);
    expect((await client.handshake({ databaseId: 'acme:notes', siteId: encodeSiteId(site) })).type).toBe(
      'handshake_ack',
    );
    client.send({ type: 'apply_changes', changes: sets, requestId: 'r1' });
    expect((await client.waitFor('apply_result')).applied).toBe(4);

    const listed = (await admin('/databases?q=acme')).body.data as { items: Record<string, unknown>[] };
    expect(listed.items).toEqual([
      expect.objectContaining({ databaseId: 'acme:notes', state: 'open', sessions: 1, lastSeq: expect.any(Number) }),
    ]);
    expect(listed.items[0]!.arrivalsPerSecond).toBeGreaterThan(0);

    const detail = await admin('/databases/acme:notes');
    expect(detail.body.data).toMatchObject({
      databaseId: 'acme:notes',
      state: 'open',
      sessions: 1,
      replica: {
        tables: [
          { schema: 'main', table: 'notes', rows: 2, cells: 3, tombstones: 0 },
          { schema: 'main', table: 'tags', rows: 1, cells: 1, tombstones: 0 },
        ],
      },
    });

    // A write that arrives is counted once the last count's reuse window (50× its cost) is over.
    client.send({
      type: 'apply_changes',
      changes: [wire(writeRow(writer, 'notes', [3], { title: 'three' }))],
      requestId: 'r2',
    });
    expect((await client.waitFor('apply_result')).applied).toBe(1);
    const notesRows = async (): Promise<unknown> =>
      ((await admin('/databases/acme:notes')).body.data as { replica: { tables: { rows: number }[] } }).replica
        .tables[0]!.rows;
    const deadline = Date.now() + 5000;
    while ((await notesRows()) !== 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(await notesRows()).toBe(3);

    const rows = await admin('/databases/acme:notes/rows?table=notes&limit=1');
    const first = rows.body.data as { rows: { pk: unknown[]; cells: Record<string, unknown>[] }[]; next?: string };
    expect(first.rows).toHaveLength(1);
    expect(first.rows[0]!.pk).toEqual([1]);
    expect(first.rows[0]!.cells.map((c) => [c.column, c.site])).toEqual([
      ['n', encodeSiteId(writer)],
      ['title', encodeSiteId(writer)],
    ]);
    expect(first.rows[0]!.cells[1]).toMatchObject({ value: 'hello', hlc: expect.any(String), seq: expect.any(Number) });
    const next = await admin(`/databases/acme:notes/rows?table=notes&limit=1&after=${encodeURIComponent(first.next!)}`);
    const second = next.body.data as typeof first;
    expect(second.rows[0]!.cells[0]!.value).toBe('<b>two</b>');
    await client.close();
  });

  it('opens a closed database only when asked, and refuses unknown and invalid ids', async () => {
    await closeIdle();
    const before = srv.server.service.stores.openCount;
    const closed = await admin('/databases/tenant:007');
    expect(closed.body.data).toMatchObject({ databaseId: 'tenant:007', state: 'closed', sessions: 0 });
    expect(closed.body.data).not.toHaveProperty('replica');
    expect((await admin('/databases/tenant:007/rows?table=t')).status).toBe(409);
    expect(srv.server.service.stores.isOpen('tenant:007')).toBe(false);
    expect(srv.server.service.stores.openCount).toBe(before);
    const opened = await admin('/databases/tenant:007?open=1');
    expect(opened.body.data).toMatchObject({
      state: 'open',
      replica: { lastSeq: 1, tables: [{ schema: 'main', table: 't', rows: 1, cells: 1, tombstones: 0 }] },
    });
    const rows = (await admin('/databases/tenant:007/rows?table=t')).body.data as { rows: { pk: unknown[] }[] };
    expect(rows.rows.map((r) => r.pk)).toEqual([[1]]);

    const missing = await admin('/databases/nobody:here?open=1');
    expect(missing.status).toBe(404);
    expect(existsSync(path.join(srv.dataDir, `${defaultStorageName('nobody:here')}.sqlite`))).toBe(false);
    expect((await admin('/databases/bad%20id')).status).toBe(400);
    expect((await admin('/databases/acme:notes/rows')).status).toBe(400);
  });
});
