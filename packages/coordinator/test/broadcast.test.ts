// Broadcast rules of PROTOCOL.md §6.5 and serialized merges (DESIGN item 0), over real sockets.
import { encodeSiteId, newSiteId, type SiteId } from '@syncord/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { wire, writeRow } from './support/change-sets.js';
import { startTestServer, type TestServer } from './support/test-server.js';
import { TestClient } from './support/ws-client.js';

let srv: TestServer;
const clients: TestClient[] = [];

beforeAll(async () => {
  srv = await startTestServer();
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await srv.stop();
});

async function join(databaseId: string, site: SiteId): Promise<TestClient> {
  const c = await TestClient.open(srv.ws);
  clients.push(c);
  expect((await c.handshake({ databaseId, siteId: encodeSiteId(site) })).type).toBe('handshake_ack');
  return c;
}

describe('broadcast', () => {
  it('pushes applied sets exactly as received to every other site of the same database only', async () => {
    const [siteA, siteB, siteC] = [newSiteId(), newSiteId(), newSiteId()];
    const a1 = await join('shop', siteA);
    const a2 = await join('shop', siteA);
    const b1 = await join('shop', siteB);
    const b2 = await join('shop', siteB);
    const elsewhere = await join('other-shop', siteC);
    const sent = wire(writeRow(siteA, 'items', [1], { id: 1, name: 'tea', price: 10n }));

    a1.send({ type: 'apply_changes', requestId: 'apply-1', changes: [sent] });
    expect(await a1.next('apply_result')).toMatchObject({ applied: 3 });
    for (const b of [b1, b2]) expect(await b.next()).toEqual({ type: 'push_changes', changeSets: [sent] });
    // Not to the submitter's site on any connection, not to another database.
    expect(await a2.drain()).toEqual([]);
    expect(await elsewhere.drain()).toEqual([]);
    expect(await a1.drain()).toEqual([]);
  });

  it('does not broadcast when nothing was applied (duplicates and lost writes)', async () => {
    const [siteA, siteB] = [newSiteId(), newSiteId()];
    const a = await join('dup', siteA);
    const b = await join('dup', siteB);
    const cs = wire(writeRow(siteA, 't', [1], { v: 'new' }, { counter: 5 }));
    a.send({ type: 'apply_changes', requestId: '1', changes: [cs] });
    await a.next('apply_result');
    expect((await b.next('push_changes')).changeSets).toEqual([cs]);

    a.send({ type: 'apply_changes', requestId: '2', changes: [cs] }); // exact duplicate
    expect(await a.next('apply_result')).toMatchObject({ requestId: '2', applied: 0, conflicts: 1 });
    const older = wire(writeRow(siteA, 't', [1], { v: 'old' }, { counter: 1 }));
    a.send({ type: 'apply_changes', requestId: '3', changes: [older] });
    expect(await a.next('apply_result')).toMatchObject({ applied: 0, conflicts: 1 });
    expect(await b.drain()).toEqual([]);
  });

  it('broadcasts an HTTP POST to the WebSocket sessions, excluding the poster’s X-Site-Id', async () => {
    const [siteA, siteB, siteD] = [newSiteId(), newSiteId(), newSiteId()];
    const a = await join('http-push', siteA);
    const b = await join('http-push', siteB);
    const post = async (site: SiteId, counter: number) => {
      const changes = [wire(writeRow(site, 't', [counter], { v: counter }, { counter }))];
      const res = await fetch(`${srv.http}/http-push/changes`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-site-id': encodeSiteId(site) },
        body: JSON.stringify({ changes }),
      });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ ok: true, data: { applied: 1, skipped: 0, conflicts: 0, transactions: 1 } });
      return changes;
    };
    const fromD = await post(siteD, 1);
    expect((await a.next('push_changes')).changeSets).toEqual(fromD);
    expect((await b.next('push_changes')).changeSets).toEqual(fromD);
    const fromB = await post(siteB, 2);
    expect((await a.next('push_changes')).changeSets).toEqual(fromB);
    expect(await b.drain()).toEqual([]);
  });
});

describe('concurrent applies on one database', () => {
  it('keep last-writer-wins whatever order racing pushes arrive in (DESIGN item 0)', async () => {
    const db = 'race';
    const writers = await Promise.all(
      Array.from({ length: 6 }, async () => {
        const site = newSiteId();
        return { site, c: await join(db, site) };
      }),
    );
    const rounds = 15;
    for (let round = 0; round < rounds; round++) {
      // Every writer pushes a version of the same cell at once; the highest HLC must win.
      const versions = writers.map((w, i) => ({
        w,
        counter: (round * 31 + i * 7) % 50,
        value: `r${round}-w${i}`,
      }));
      const winner = versions.reduce((best, v) => {
        if (v.counter !== best.counter) return v.counter > best.counter ? v : best;
        return Buffer.compare(Buffer.from(v.w.site), Buffer.from(best.w.site)) > 0 ? v : best;
      });
      for (const v of versions) {
        v.w.c.send({
          type: 'apply_changes',
          requestId: `${round}`,
          changes: [wire(writeRow(v.w.site, 'cells', [round], { v: v.value }, { counter: v.counter }))],
        });
      }
      // Pushes from the other writers interleave with the acks; only the acks matter here.
      await Promise.all(writers.map((w) => w.c.waitFor('apply_result')));
      const reader = await join(db, newSiteId());
      reader.send({ type: 'get_changes' });
      const sets = (await reader.next('changes')).changeSets as { changes: { pk: unknown[]; value: unknown }[] }[];
      const cell = sets.flatMap((s) => s.changes).find((c) => c.pk[0] === round);
      expect(cell?.value).toBe(winner.value);
      await reader.close();
    }
    for (const w of writers) await w.c.drain();
  });
});
