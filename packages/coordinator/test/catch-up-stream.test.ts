// Item 2 (server → client) and item 6 over a real socket: a client shaped like the real one
// (PROTOCOL.md §3.6: one get_changes per connection, its watermark set to each message's max)
// receives the whole catch-up on that connection as pages of at most sync.batchSize changes,
// nothing twice; dropped after any page it resumes from that page's max and loses nothing.
import { decodeHLC, encodeHLC, encodeSiteId, makeHLC, type SiteId } from '@syncord/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BASE_WALL, newSiteId, wire, writeRow } from './support/change-sets.js';
import { startTestServer, type TestServer } from './support/test-server.js';
import { TestClient, type ServerJson } from './support/ws-client.js';

const BATCH = 500;
const SETS = 2600; // 5,200 changes in 2,600 change sets

interface WireSet {
  hlc: string;
  changes: { pk: unknown[]; column?: string }[];
}

let server: TestServer;
const writer = newSiteId();

async function join(site: SiteId, databaseId = 'stream'): Promise<TestClient> {
  const client = await TestClient.open(server.ws);
  expect(await client.handshake({ databaseId, siteId: encodeSiteId(site) })).toMatchObject({ type: 'handshake_ack' });
  return client;
}

/** One transaction per row, two columns each, row i at wall time BASE_WALL + offset + i. */
async function writeMany(databaseId: string, first: number, count: number, offset: bigint): Promise<void> {
  const client = await join(writer, databaseId);
  for (let at = 0; at < count; at += 1000) {
    const sets = [];
    for (let i = at; i < Math.min(count, at + 1000); i++) {
      sets.push(
        wire(writeRow(writer, 'items', [first + i], { a: i, b: 'x' }, { wall: BASE_WALL + offset + BigInt(i) })),
      );
    }
    client.send({ type: 'apply_changes', requestId: `w${at}`, changes: sets });
    // waitFor: a page this size is also followed by a request_changes, which this writer ignores.
    expect(await client.waitFor('apply_result')).toMatchObject({ requestId: `w${at}` });
  }
  await client.close();
}

/** Reads `changes` pages until one without `more` (or `limit` pages); every wait is bounded. */
async function pages(client: TestClient, limit = 1000): Promise<ServerJson[]> {
  const out: ServerJson[] = [];
  for (let i = 0; i < limit; i++) {
    const page = await client.next('changes');
    out.push(page);
    if (page.more !== true) break;
  }
  return out;
}

const setsOf = (page: ServerJson): WireSet[] => page.changeSets as WireSet[];
const keysOf = (list: ServerJson[]): string[] =>
  list.flatMap(setsOf).flatMap((cs) => cs.changes.map((c) => `${String(c.pk[0])}.${c.column}`));
const maxOf = (page: ServerJson): string =>
  setsOf(page)
    .map((cs) => cs.hlc)
    .reduce((a, b) => (Buffer.compare(Buffer.from(a, 'base64'), Buffer.from(b, 'base64')) >= 0 ? a : b));

function expectPaged(list: ServerJson[]): void {
  for (const page of list) {
    const sets = setsOf(page);
    const count = sets.reduce((n, cs) => n + cs.changes.length, 0);
    expect(count - (sets.at(-1)?.changes.length ?? 0)).toBeLessThan(BATCH);
  }
  expect(list.at(-1)!.more).toBe(false);
  expect(list.slice(0, -1).every((p) => p.more === true)).toBe(true);
}

beforeAll(async () => {
  server = await startTestServer({ config: { sync: { batchSize: BATCH } } });
  await writeMany('stream', 0, SETS, 0n);
}, 60_000);
afterAll(() => server.stop());

describe('a catch-up streamed as pages on one get_changes', () => {
  it('gives a client that asks once every fact exactly once, the last page with more: false', async () => {
    const client = await join(newSiteId());
    client.send({ type: 'get_changes' });
    const list = await pages(client);
    expect(list.length).toBeGreaterThanOrEqual((SETS * 2) / BATCH);
    expectPaged(list);
    const keys = keysOf(list);
    expect(keys.length).toBe(SETS * 2);
    expect(new Set(keys).size).toBe(SETS * 2);
    // A second get_changes on the same connection is served too (nothing new: one empty page).
    client.send({ type: 'get_changes', sinceHLC: maxOf(list.at(-1)!) });
    expect(await pages(client)).toEqual([{ type: 'changes', changeSets: [], more: false }]);
    await client.close();
  });

  it('loses nothing for a client dropped after a page that reconnects with that page max', async () => {
    const site = newSiteId();
    const all = new Set<string>();
    for (const k of [0, 3, 8]) {
      const first = await join(site);
      first.send({ type: 'get_changes' });
      const head = await pages(first, k + 1);
      await first.close(); // dropped: the pages after k were never read
      const again = await join(site);
      again.send({ type: 'get_changes', sinceHLC: maxOf(head.at(-1)!) });
      const rest = await pages(again);
      expectPaged(rest);
      const got = new Set([...keysOf(head), ...keysOf(rest)]);
      expect(got.size).toBe(SETS * 2);
      for (const key of got) all.add(key);
      await again.close();
    }
    expect(all.size).toBe(SETS * 2);
  });

  it('pages the late part below a watermark with no coverage record (item 6)', async () => {
    const client = await join(newSiteId());
    // A watermark above every fact that this server never handed out: all 5,200 are "late".
    const above = encodeHLC(makeHLC(BASE_WALL + BigInt(SETS + 10), 0, newSiteId(), 0));
    client.send({ type: 'get_changes', sinceHLC: above });
    const list = await pages(client);
    expectPaged(list);
    expect(new Set(keysOf(list)).size).toBe(SETS * 2);
    // Every page max lies below the watermark and rises page by page.
    const maxes = list.map((p) => decodeHLC(maxOf(p)).wallTime);
    expect(maxes).toEqual([...maxes].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
    await client.close();
  });
});

describe('a spoofed site id (item 4)', () => {
  it('cannot make the server skip a late fact for the real site', async () => {
    const db = 'spoof';
    await writeMany(db, 0, 3, 100n);
    const victimSite = newSiteId();
    const victim = await join(victimSite, db);
    victim.send({ type: 'get_changes' });
    const w = maxOf((await pages(victim))[0]!);
    await victim.close();
    await writeMany(db, 10, 1, 0n); // late fact F: below W, arrives after
    const impostor = await join(victimSite, db);
    const below = decodeHLC(w);
    impostor.send({ type: 'get_changes', sinceHLC: encodeHLC({ ...below, opSeq: 0 }) });
    const spoofed = await pages(impostor);
    expect(maxOf(spoofed.at(-1)!)).toBe(w); // the impostor received a reply with max W
    await impostor.close();
    const back = await join(victimSite, db);
    back.send({ type: 'get_changes', sinceHLC: w });
    expect(keysOf(await pages(back))).toEqual(['10.a', '10.b']);
    await back.close();
  });
});

describe('shutdown during a catch-up stream', () => {
  it('stops the stream at a page boundary and closes with 1001', async () => {
    const own = await startTestServer({ config: { sync: { batchSize: 50 } } });
    const previous = server;
    server = own;
    try {
      await writeMany('stream', 0, 2000, 0n);
      const client = await join(newSiteId());
      client.send({ type: 'get_changes' });
      await client.next('changes');
      await own.stop();
      const closed = await client.closed;
      expect(closed.code).toBe(1001);
    } finally {
      server = previous;
    }
  });
});
