// Issue 10 item 2, client → server: a client that pushes one page per local write (the real
// client, PROTOCOL.md §3.6) gets its whole offline backlog to the server without another write,
// because the server asks for the next page with request_changes after each large apply.
import { encodeHLC, encodeSiteId, newSiteId, type ChangeSet, type SiteId } from '@syncord/core';
import { afterEach, describe, expect, it } from 'vitest';
import { BASE_WALL, wire, writeRow } from './support/change-sets.js';
import { PagePerWriteClient } from './support/page-per-write-client.js';
import { startTestServer, type ConfigOverrides, type TestServer } from './support/test-server.js';
import { TestClient } from './support/ws-client.js';

let srv: TestServer | undefined;
const sockets: TestClient[] = [];
afterEach(async () => {
  await Promise.all(sockets.splice(0).map((c) => c.close()));
  await srv?.stop();
  srv = undefined;
});

async function serve(config: ConfigOverrides = {}): Promise<TestServer> {
  srv = await startTestServer({ config });
  return srv;
}

/** `count` single-row inserts (id and title: two data changes each) written offline by `site`. */
function offlineRows(site: SiteId, count: number, first = 0): ChangeSet[] {
  return Array.from({ length: count }, (_, i) =>
    writeRow(
      site,
      'notes',
      [first + i],
      { id: first + i, title: `row ${first + i}` },
      { wall: BASE_WALL + BigInt(first + i) },
    ),
  );
}

/** How many of `sets` the server's database holds, fact by fact. */
async function heldBy(server: TestServer, databaseId: string, sets: readonly ChangeSet[]): Promise<number> {
  const handle = await server.server.service.stores.acquire(databaseId);
  try {
    return sets.filter((cs) => cs.changes.every((c) => handle.replica.holds(c))).length;
  } finally {
    handle.release();
  }
}

describe('pulling a client backlog with request_changes', () => {
  it('gets all 5,000 offline transactions of a page-per-write client without another local write', async () => {
    const server = await serve();
    const site = newSiteId();
    const rows = offlineRows(site, 5000);
    const client = await PagePerWriteClient.connect(server.ws, 'db', site, rows);
    sockets.push(client.socket);
    await client.settle();

    expect(await heldBy(server, 'db', rows)).toBe(5000);
    // 10,000 changes in pages of 1,000: the first pushed, nine pulled, and one last ask answered
    // with nothing because the client had no more.
    expect(client.requests).toHaveLength(10);
    expect(client.answered).toBe(9);
    for (const request of client.requests) {
      expect(request).toEqual({ type: 'request_changes', siteId: expect.any(String), sinceHLC: expect.any(String) });
    }
    // Only the first page was acknowledged by id: the rest came without a local write.
    expect(client.lastSentHLC).toEqual(rows[499]!.hlc);
  });

  it('asks from the max HLC of a page at the threshold, with the server site; never below it or over HTTP', async () => {
    const server = await serve({ sync: { backlogRequestMinChanges: 4 } });
    const site = newSiteId();
    const c = await TestClient.open(server.ws);
    sockets.push(c);
    const ack = await c.handshake({ databaseId: 'db', siteId: encodeSiteId(site) });
    const [older, newer] = offlineRows(site, 2);
    // Four data changes, the newest transaction first: the ask names the page's max HLC.
    c.send({ type: 'apply_changes', requestId: 'apply-1', changes: [wire(newer!), wire(older!)] });
    expect(await c.next('apply_result')).toMatchObject({ requestId: 'apply-1', applied: 4 });
    expect(await c.next()).toEqual({
      type: 'request_changes',
      siteId: ack['serverSiteId'],
      sinceHLC: encodeHLC(newer!.hlc),
    });
    // The answer to it (no requestId) is applied and acknowledged without an id.
    const more = offlineRows(site, 1, 2);
    c.send({ type: 'apply_changes', changes: more.map(wire) });
    expect(await c.next('apply_result')).toEqual({
      type: 'apply_result',
      applied: 2,
      skipped: 0,
      conflicts: 0,
      transactions: 1,
    });
    // Three changes: below the threshold, no ask.
    const small = writeRow(site, 'notes', [9], { id: 9, title: 'x', body: 'y' }, { wall: BASE_WALL + 99n });
    c.send({ type: 'apply_changes', requestId: 'apply-2', changes: [wire(small)] });
    expect(await c.next('apply_result')).toMatchObject({ requestId: 'apply-2', applied: 3 });
    expect(await c.drain()).toEqual([]);
    // A large page over HTTP asks nobody, not even this site's socket.
    const res = await fetch(`${server.http}/db/changes`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-site-id': encodeSiteId(site) },
      body: JSON.stringify({ changes: offlineRows(site, 5, 10).map(wire) }),
    });
    expect(res.status).toBe(200);
    expect(await c.drain()).toEqual([]);
  });

  it('asks for nothing with backlogRequestMinChanges 0', async () => {
    const server = await serve({ sync: { backlogRequestMinChanges: 0 } });
    const site = newSiteId();
    const rows = offlineRows(site, 2000);
    const client = await PagePerWriteClient.connect(server.ws, 'db', site, rows);
    sockets.push(client.socket);
    await client.settle();
    expect(client.requests).toEqual([]);
    expect(await heldBy(server, 'db', rows)).toBe(500);
  });
});
