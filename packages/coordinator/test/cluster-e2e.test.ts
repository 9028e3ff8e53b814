// Syncord as a cluster, end to end: three `syncord` child processes over a three-server NATS
// cluster (Debian's nats-server, JetStream, temp stores, 3 replicas), driven by real clients over
// WebSocket. Every acknowledged write survives node SIGKILLs, a wiped data dir and a restart of
// every NATS server; subscribers on every node receive every write; clients hopping between nodes
// at random converge; a client pushing as PROTOCOL.md §3.6 describes can move between nodes.
import { LocalDatabase, SyncClient, type SyncClientOptions } from '@syncord/client';
import { newSiteId, type SiteId } from '@syncord/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { wire, writeRow, writeRows } from './support/change-sets.js';
import {
  cellsOf,
  eventually,
  joinNode,
  readAll,
  readyStatus,
  startCluster,
  type ClusterNode,
  type TestCluster,
} from './support/cluster-nodes.js';
import { startNatsCluster, type NatsTestCluster } from './support/nats-server.js';
import { PagePerWriteClient } from './support/page-per-write-client.js';
import type { ServerJson } from './support/ws-client.js';

let nats: NatsTestCluster;
let cluster: TestCluster;

beforeAll(async () => {
  nats = await startNatsCluster(3);
  cluster = await startCluster(nats.urls, 3, 3);
}, 120_000);

afterAll(async () => {
  await cluster?.stop();
  await nats?.stop();
}, 60_000);

/** A small deterministic generator, so a failing run can be replayed from its printed seed. */
function seeded(seed: number): (n: number) => number {
  let s = seed >>> 0;
  return (n) => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) % n) as number;
  };
}

const nodes = (): ClusterNode[] => cluster.nodes;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Writes one row per apply through `site` on random live nodes until `stopped()`; records every ack. */
async function writer(
  databaseId: string,
  site: SiteId,
  ids: () => number,
  acked: Map<number, string>,
  stopped: () => boolean,
  pick: (n: number) => number,
): Promise<void> {
  while (!stopped()) {
    const live = nodes().filter((n) => n.server.alive);
    const node = live[pick(live.length)];
    if (!node) {
      await sleep(50);
      continue;
    }
    try {
      const { client } = await joinNode(node, databaseId, site);
      try {
        while (!stopped()) {
          const id = ids();
          const value = `v${id}`;
          const set = wire(writeRow(site, 'items', [id], { value }, { counter: id }));
          client.send({ type: 'apply_changes', requestId: `w${id}`, changes: [set] });
          const reply = await client.next();
          if (reply.type !== 'apply_result') break;
          acked.set(id, value);
        }
      } finally {
        await client.close().catch(() => undefined);
      }
    } catch {
      // The node died under us (or refused while NATS elected leaders): go elsewhere.
      await sleep(100);
    }
  }
}

function expectAllAcked(sets: readonly ServerJson[], acked: ReadonlyMap<number, string>): void {
  const cells = cellsOf(sets);
  const missing = [...acked].filter(([id, value]) => cells.get(JSON.stringify(['items', [id], 'value'])) !== value);
  expect(missing).toEqual([]);
}

describe('a three-node cluster over a three-server NATS cluster', () => {
  it('pushes every write acknowledged by any node to the subscribers on every node', async () => {
    const db = 'fanout';
    const subscribers = await Promise.all(nodes().map((n) => joinNode(n, db)));
    const writerSites = nodes().map(() => newSiteId());
    const perWriter = 40;
    await Promise.all(
      nodes().map(async (node, w) => {
        const { client } = await joinNode(node, db, writerSites[w]);
        for (let i = 1; i <= perWriter; i++) {
          const set = wire(writeRow(writerSites[w]!, 'items', [w * 1000 + i], { value: `${w}:${i}` }, { counter: i }));
          client.send({ type: 'apply_changes', requestId: `r${i}`, changes: [set] });
          // The other writers' pushes reach this session too; the subscribers count them.
          expect(await client.waitFor('apply_result')).toMatchObject({ requestId: `r${i}` });
        }
        await client.close();
      }),
    );
    for (const { client } of subscribers) {
      const received = new Set<string>();
      const ok = await eventually(async () => {
        for (const m of await client.drain()) {
          if (m.type !== 'push_changes') continue;
          for (const cs of m['changeSets'] as ServerJson[]) {
            for (const ch of cs['changes'] as ServerJson[]) {
              const key = JSON.stringify(ch['pk']);
              expect(received.has(key)).toBe(false); // nothing twice
              received.add(key);
            }
          }
        }
        return received.size === nodes().length * perWriter;
      });
      expect(ok, `received ${received.size} of ${nodes().length * perWriter}`).toBe(true);
      await client.close();
    }
  }, 120_000);

  it('converges when clients hop between nodes at random between syncs', async () => {
    const seed = Number(process.env['CLUSTER_SEED'] ?? Date.now() % 100_000);
    const pick = seeded(seed);
    const options: SyncClientOptions = { reconnect: { baseDelayMs: 10, maxDelayMs: 200 }, pushDebounceMs: 0 };
    const replicas = [0, 1, 2, 3].map(() => {
      const db = LocalDatabase.open();
      db.declareTable('items', { columns: { id: 'integer', value: 'text' }, primaryKey: ['id'] });
      return { db, sync: new SyncClient(db, options) };
    });
    for (let round = 0; round < 16; round++) {
      const r = replicas[pick(replicas.length)]!;
      const node = nodes()[pick(nodes().length)]!;
      await r.sync.connect(node.server.ws, 'hop');
      for (let k = 0, n = 1 + pick(3); k < n; k++) r.db.put('items', { id: pick(10), value: `r${round}k${k}` });
      await r.sync.whenSynced({ timeoutMs: 20_000 });
      await r.sync.disconnect();
    }
    for (const r of replicas) await r.sync.connect(nodes()[pick(nodes().length)]!.server.ws, 'hop');
    const rowsOf = (db: LocalDatabase) => JSON.stringify(db.list('items'));
    const converged = await eventually(async () => {
      await Promise.all(replicas.map((r) => r.sync.whenSynced({ timeoutMs: 10_000 })));
      return replicas.every((r) => rowsOf(r.db) === rowsOf(replicas[0]!.db));
    });
    expect(converged, `replicas differ (seed ${seed})`).toBe(true);
    // Every node serves the same content, and it is what the replicas hold.
    const perNode = await Promise.all(nodes().map((n) => readAll(n, 'hop')));
    const valueCells = (sets: readonly ServerJson[]) => [...cellsOf(sets)].filter(([key]) => key.endsWith('"value"]'));
    const contents = perNode.map((sets) => JSON.stringify(valueCells(sets).sort()));
    expect(new Set(contents).size).toBe(1);
    const fromReplica = replicas[0]!.db
      .list('items')
      .map((row) => [JSON.stringify(['items', [row['id']], 'value']), row['value']]);
    expect(contents[0]).toBe(JSON.stringify(fromReplica.sort()));
    for (const r of replicas) await r.sync.disconnect();
  }, 180_000);

  it('loses no acknowledged write across ten SIGKILLs of a random node during writes', async () => {
    const pick = seeded(Date.now() % 100_000);
    const acked = new Map<number, string>();
    let counter = 0;
    let stopped = false;
    const writers = [0, 1].map(() =>
      writer(
        'kills',
        newSiteId(),
        () => ++counter,
        acked,
        () => stopped,
        pick,
      ),
    );
    for (let i = 0; i < 10; i++) {
      await sleep(300 + pick(500));
      await cluster.restart(nodes()[pick(nodes().length)]!, 'kill');
    }
    await sleep(500);
    stopped = true;
    await Promise.all(writers);
    expect(acked.size).toBeGreaterThan(20);
    for (const node of nodes()) expectAllAcked(await readAll(node, 'kills'), acked);
  }, 240_000);

  it('rebuilds a node whose data dir was wiped from the cluster log', async () => {
    const site = newSiteId();
    const first = nodes()[0]!;
    const { client, ack } = await joinNode(first, 'wiped', site);
    const sets = [1, 2, 3, 4, 5].map((i) => wire(writeRow(site, 'items', [i], { value: `v${i}` }, { counter: i })));
    client.send({ type: 'apply_changes', requestId: 'w', changes: sets });
    expect((await client.next()).type).toBe('apply_result');
    await client.close();

    const last = nodes()[2]!;
    expect((await readAll(last, 'wiped')).length).toBe(5); // opened there, so its file exists
    await cluster.restart(last, 'stop', { wipe: true });
    const again = await joinNode(last, 'wiped');
    expect(again.ack['serverSiteId']).toBe(ack['serverSiteId']);
    await again.client.close();
    expect(await readAll(last, 'wiped')).toEqual(sets);
  }, 120_000);

  it('loses nothing acknowledged when every NATS server is killed and restarted', async () => {
    const site = newSiteId();
    const { client } = await joinNode(nodes()[1]!, 'nats-restart', site);
    const before = [1, 2, 3].map((i) => wire(writeRow(site, 'items', [i], { value: `v${i}` }, { counter: i })));
    client.send({ type: 'apply_changes', requestId: 'w', changes: before });
    expect((await client.next()).type).toBe('apply_result');
    await client.close();

    for (const server of nats.servers) await server.kill();
    for (const node of nodes()) expect(await readyStatus(node.server.http)).toBe(503);
    await Promise.all(nats.servers.map((s) => s.start()));
    for (const node of nodes()) {
      const ready = await eventually(async () => (await readyStatus(node.server.http)) === 200, 60_000);
      expect(ready, `${node.name} ready again`).toBe(true);
    }
    // Writes are taken again (leaders may still be settling: retry within a bound).
    const after = wire(writeRow(site, 'items', [4], { value: 'v4' }, { counter: 4 }));
    const written = await eventually(async () => {
      const { client: c } = await joinNode(nodes()[2]!, 'nats-restart', site);
      try {
        c.send({ type: 'apply_changes', requestId: 'again', changes: [after] });
        return (await c.next()).type === 'apply_result';
      } finally {
        await c.close();
      }
    }, 60_000);
    expect(written).toBe(true);
    for (const node of nodes()) {
      let served: ServerJson[] = [];
      const caughtUp = await eventually(async () => {
        served = await readAll(node, 'nats-restart');
        return served.length === 4;
      }, 60_000);
      expect(caughtUp, `${node.name} serves ${served.length} of 4`).toBe(true);
      expect(served).toEqual([...before, after]);
    }
  }, 180_000);

  it('takes the backlog of a client pushing as §3.6 does, moved to another node midway', async () => {
    const site = newSiteId();
    // 600 transactions of 5 rows: 3,000 changes, six pages of the client's 500.
    const local = Array.from({ length: 600 }, (_, i) =>
      writeRows(site, 'items', i * 5, 5, 'value', `v${i}`, { counter: i + 1 }),
    );
    const onFirst = await PagePerWriteClient.connect(nodes()[0]!.server.ws, 'paged', site, local, 500);
    // One acknowledged page on the first node, then the client is moved.
    for (;;) {
      const message = await onFirst.socket.next();
      onFirst.handle(message);
      if (message.type === 'apply_result') break;
    }
    await onFirst.socket.close();
    const onSecond = await PagePerWriteClient.connect(nodes()[1]!.server.ws, 'paged', site, local, 500);
    await onSecond.settle();
    await onSecond.socket.close();
    const served = await readAll(nodes()[2]!, 'paged');
    const expected = cellsOf(local.map((cs) => wire(cs) as ServerJson));
    expect(cellsOf(served)).toEqual(expected);
  }, 120_000);
});
