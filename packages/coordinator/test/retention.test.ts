// Retention horizon (issue 4 item 6): tombstones past the horizon are pruned by a periodic sweep
// of open databases and, at start, by each database as it opens; a catch-up from a watermark the
// pruned history no longer covers is refused with RESYNC_REQUIRED (WS non-fatal, HTTP 410).
import { rmSync } from 'node:fs';
import { encodeHLC, encodeSiteId, newSiteId } from '@syncord/core';
import { openSqliteReplica } from '@syncord/core/sqlite';
import { afterEach, expect, it } from 'vitest';
import { BASE_WALL, deleteRow, wire, writeRow } from './support/change-sets.js';
import { metricValue } from './support/metric-value.js';
import { startTestServer, tempDir, type TestServer } from './support/test-server.js';
import { TestClient } from './support/ws-client.js';

const HORIZON_MS = 60_000;
let now = Date.now();
const servers: TestServer[] = [];
const clients: TestClient[] = [];
const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  for (const s of servers.splice(0)) await s.stop();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function start(maintenanceIntervalMs: number, dataDir?: string): Promise<TestServer> {
  const srv = await startTestServer({
    ...(dataDir ? { dataDir } : {}),
    config: { sync: { retentionHorizonMs: HORIZON_MS, maintenanceIntervalMs } },
    openReplica: (file) => openSqliteReplica(file, { now: () => now }),
  });
  servers.push(srv);
  return srv;
}

async function join(srv: TestServer, site = newSiteId()): Promise<TestClient> {
  const c = await TestClient.open(srv.ws);
  clients.push(c);
  await c.handshake({ databaseId: 'db', siteId: encodeSiteId(site) });
  return c;
}

const writer = newSiteId();
/** A watermark from before the delete: its holder never saw it. */
const staleWatermark = encodeHLC({ wallTime: BASE_WALL - 1n, counter: 0, siteId: writer, opSeq: 0 });

async function writeThenDelete(srv: TestServer): Promise<void> {
  const c = await join(srv, writer);
  c.send({
    type: 'apply_changes',
    changes: [
      wire(writeRow(writer, 'notes', [1], { title: 'kept' }, { counter: 1 })),
      wire(deleteRow(writer, 'notes', [2], { counter: 2 })),
    ],
  });
  expect(await c.next('apply_result')).toMatchObject({ applied: 2 });
}

async function expectResyncRequired(srv: TestServer): Promise<void> {
  const reader = await join(srv);
  reader.send({ type: 'get_changes', sinceHLC: staleWatermark });
  expect(await reader.next()).toMatchObject({
    type: 'error',
    code: 'RESYNC_REQUIRED',
    fatal: false,
    message: expect.stringMatching(/snapshot/),
  });
  // Non-fatal: the same connection can bootstrap and catch up from zero.
  reader.send({ type: 'get_changes' });
  expect((await reader.next('changes')).changeSets).toHaveLength(1);

  const res = await fetch(`${srv.http}/db/changes?sinceHLC=${encodeURIComponent(staleWatermark)}`, {
    headers: { 'x-site-id': encodeSiteId(newSiteId()) },
  });
  expect(res.status).toBe(410);
  expect(await res.json()).toMatchObject({ ok: false, error: { code: 'RESYNC_REQUIRED' } });
}

it('serves a stale watermark while nothing is pruned, then a sweep prunes and it must resync', async () => {
  const srv = await start(20);
  await writeThenDelete(srv);
  const before = await join(srv);
  before.send({ type: 'get_changes', sinceHLC: staleWatermark });
  expect((await before.next('changes')).changeSets).toHaveLength(2);

  now += HORIZON_MS + 1;
  // No explicit call: the periodic sweep finds the expired tombstone.
  await expect.poll(() => metricValue(srv.server.service.metrics.tombstonesPrunedTotal)).toBe(1);
  await expectResyncRequired(srv);
});

it('prunes at start: a database is swept as it opens, before it serves anyone', async () => {
  const dataDir = tempDir();
  dirs.push(dataDir);
  const first = await start(3_600_000, dataDir);
  await writeThenDelete(first);
  await first.stop();
  servers.splice(servers.indexOf(first), 1);

  now += HORIZON_MS + 1;
  const second = await start(3_600_000, dataDir);
  await expectResyncRequired(second);
  expect(await metricValue(second.server.service.metrics.tombstonesPrunedTotal)).toBe(1);
});
