// Origin checks (issue 4 item 4): with auth on, a client may introduce facts only under its own
// site id; re-pushing facts the server holds stays legal; a forged set is rejected in
// apply_result.rejected with ORIGIN_MISMATCH, stores nothing and is not broadcast, while the
// other sets of the batch still apply.
import { encodeSiteId, newSiteId, type SiteId } from '@syncord/core';
import { describe, expect, it } from 'vitest';
import type { OriginCheck } from '@syncord/coordinator';
import { deleteRow, wire, writeRow } from './support/change-sets.js';
import { metricValue } from './support/metric-value.js';
import { startTestServer, type TestServer } from './support/test-server.js';
import { perTestServers } from './support/per-test-servers.js';
import { TestClient } from './support/ws-client.js';

let srv: TestServer | undefined;
const { clients, adopt } = perTestServers();

async function start(auth: 'none' | 'token', originCheck?: OriginCheck): Promise<void> {
  srv = adopt(
    await startTestServer({
      config: {
        auth: auth === 'token' ? { mode: 'token-whitelist', tokens: ['t'] } : { mode: 'none', tokens: [] },
        ...(originCheck ? { sync: { originCheck } } : {}),
      },
    }),
  );
}

async function join(site: SiteId): Promise<TestClient> {
  const c = await TestClient.open(srv!.ws);
  clients.push(c);
  expect((await c.handshake({ databaseId: 'db', siteId: encodeSiteId(site), token: 't' })).type).toBe('handshake_ack');
  return c;
}

async function apply(c: TestClient, changes: unknown[]): Promise<Record<string, unknown>> {
  c.send({ type: 'apply_changes', requestId: 'r', changes });
  return c.waitFor('apply_result');
}

function stored(table: string, pk: number): Record<string, unknown> | undefined {
  let row: Map<string, unknown> | undefined;
  const { stores } = srv!.server.service;
  stores.forEachOpen((id, replica) => {
    if (id === 'db') row = replica.readRow('main', table, [pk]);
  });
  return row ? Object.fromEntries(row) : undefined;
}

describe('origin checks with auth on (sync.originCheck auto = strict)', () => {
  it('accepts own facts and re-pushes of held facts, refuses forged ones without storing them', async () => {
    await start('token');
    const [siteA, siteB] = [newSiteId(), newSiteId()];
    const a = await join(siteA);
    const b = await join(siteB);
    const own = writeRow(siteA, 'notes', [1], { title: 'by a' }, { counter: 1 });
    expect(await apply(a, [wire(own)])).toMatchObject({ applied: 1 });
    expect(await b.next('push_changes')).toBeDefined();

    // B re-pushes what it received, and a stale version of it: both held, so legal.
    const stale = writeRow(siteA, 'notes', [1], { title: 'older' }, { counter: 0 });
    const repush = await apply(b, [wire(own), wire(stale)]);
    expect(repush).toMatchObject({ applied: 0, conflicts: 2 });
    expect(repush.rejected).toBeUndefined();

    // A newer version and a brand-new row under A's site, next to B's own write.
    const forgedNewer = writeRow(siteA, 'notes', [1], { title: 'forged' }, { counter: 2 });
    const forgedRow = writeRow(siteA, 'notes', [2], { title: 'forged' }, { counter: 3 });
    const forgedDelete = deleteRow(siteA, 'notes', [1], { counter: 4 });
    const mine = writeRow(siteB, 'notes', [3], { title: 'by b' }, { counter: 5 });
    const result = await apply(b, [wire(forgedNewer), wire(forgedRow), wire(mine), wire(forgedDelete)]);
    expect(result).toMatchObject({ applied: 1, transactions: 1 });
    const rejected = result.rejected as { code: string; reason: string }[];
    expect(rejected).toHaveLength(3);
    for (const r of rejected) {
      expect(r.code).toBe('ORIGIN_MISMATCH');
      expect(r.reason).toContain(encodeSiteId(siteA));
      expect(r.reason).toContain(encodeSiteId(siteB));
    }
    expect(stored('notes', 1)).toEqual({ title: 'by a' });
    expect(stored('notes', 2)).toBeUndefined();
    expect(stored('notes', 3)).toEqual({ title: 'by b' });
    // A hears only of B's own write.
    const push = await a.next('push_changes');
    expect((push.changeSets as unknown[]).length).toBe(1);
    expect(await a.drain()).toEqual([]);

    const { metrics } = srv!.server.service;
    expect(await metricValue(metrics.originRejectionsTotal)).toBe(3);
    expect(await metricValue(metrics.changesRejectedTotal)).toBe(3);
  });

  it('refuses a re-push that repeats a stored HLC with another value; a peer never hears of it', async () => {
    await start('token');
    const [siteA, siteB, siteC] = [newSiteId(), newSiteId(), newSiteId()];
    const a = await join(siteA);
    const b = await join(siteB);
    const own = writeRow(siteA, 'notes', [1], { title: 'by a' }, { counter: 1 });
    expect(await apply(a, [wire(own)])).toMatchObject({ applied: 1 });
    await b.next('push_changes');
    const c = await join(siteC); // a peer that has not caught up yet

    const forged = writeRow(siteA, 'notes', [1], { title: 'forged' }, { counter: 1 });
    const mine = writeRow(siteB, 'notes', [2], { title: 'by b' }, { counter: 2 });
    const result = await apply(b, [wire(forged), wire(mine)]);
    expect(result).toMatchObject({ applied: 1, rejected: [{ code: 'ORIGIN_MISMATCH' }] });
    expect(stored('notes', 1)).toEqual({ title: 'by a' });
    const push = await c.next('push_changes');
    expect(push.changeSets).toEqual([wire(mine)]);
    expect(await c.drain()).toEqual([]);
  });

  it('broadcasts only what applied: a re-pushed duplicate next to an own new fact is not relayed', async () => {
    await start('token');
    const [siteA, siteB, siteC] = [newSiteId(), newSiteId(), newSiteId()];
    const a = await join(siteA);
    const b = await join(siteB);
    const c = await join(siteC);
    const own = writeRow(siteA, 'notes', [1], { title: 'by a' }, { counter: 1 });
    expect(await apply(a, [wire(own)])).toMatchObject({ applied: 1 });
    await b.next('push_changes');
    await c.next('push_changes');

    const mine = writeRow(siteB, 'notes', [2], { title: 'by b' }, { counter: 2 });
    const result = await apply(b, [wire(own), wire(mine)]);
    expect(result).toMatchObject({ applied: 1, conflicts: 1 });
    expect(result.rejected).toBeUndefined();
    for (const peer of [a, c]) {
      expect((await peer.next('push_changes')).changeSets).toEqual([wire(mine)]);
      expect(await peer.drain()).toEqual([]);
    }
  });

  it('treats a column write blocked by a held delete as held, and refuses forged sets over HTTP too', async () => {
    await start('token');
    const [siteA, siteB] = [newSiteId(), newSiteId()];
    const a = await join(siteA);
    const b = await join(siteB);
    const write = writeRow(siteA, 'notes', [1], { title: 'x' }, { counter: 5 });
    expect(await apply(a, [wire(write)])).toMatchObject({ applied: 1 });
    expect(await apply(b, [wire(deleteRow(siteB, 'notes', [1], { counter: 1 }))])).toMatchObject({ applied: 1 });
    // The cell is gone (a delete beats cells), yet re-pushing it is harmless and legal.
    expect((await apply(b, [wire(write)])).rejected).toBeUndefined();

    const post = (changes: unknown[]) =>
      fetch(`${srv!.http}/db/changes`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-site-id': encodeSiteId(siteB), authorization: 'Bearer t' },
        body: JSON.stringify({ changes }),
      });
    const res = await post([wire(writeRow(siteA, 'notes', [9], { title: 'forged' }, { counter: 9 }))]);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      ok: true,
      data: { applied: 0, rejected: [{ code: 'ORIGIN_MISMATCH' }] },
    });
    expect(stored('notes', 9)).toBeUndefined();
  });
});

describe('origin check settings', () => {
  const forge = async (): Promise<Record<string, unknown>> => {
    const b = await join(newSiteId());
    return apply(b, [wire(writeRow(newSiteId(), 'notes', [1], { title: 'relayed' }))]);
  };

  it('any: accepts facts of other sites even with auth on', async () => {
    await start('token', 'any');
    expect(await forge()).toMatchObject({ applied: 1 });
  });

  it('auto without auth: accepts them (claimed site ids prove nothing)', async () => {
    await start('none');
    expect(await forge()).toMatchObject({ applied: 1 });
  });

  it('strict without auth: refuses them', async () => {
    await start('none', 'strict');
    expect(await forge()).toMatchObject({ applied: 0, rejected: [{ code: 'ORIGIN_MISMATCH' }] });
  });
});
