// Two coordinator nodes in this process sharing one real nats-server (JetStream, temp store): one
// database whichever node a client talks to — one server site id, writes acknowledged by one node
// pushed by the other, catch-up and snapshots that hold every acknowledged write, coverage that a
// watermark from one node keeps on the other, and readiness that follows NATS.
import {
  decodeSnapshotChunk,
  encodeHLC,
  encodeSiteId,
  newSiteId,
  type SiteId,
  type SnapshotChunk,
} from '@syncord/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { wire, writeRow } from './support/change-sets.js';
import { eventually, readyStatus } from './support/cluster-nodes.js';
import { metricValue } from './support/metric-value.js';
import { startNatsServer } from './support/nats-server.js';
import { startTestServer, type TestServer } from './support/test-server.js';
import { TestClient } from './support/ws-client.js';

let nats: Awaited<ReturnType<typeof startNatsServer>>;
let nodes: TestServer[] = [];
const clients: TestClient[] = [];

async function startNode(name: string): Promise<TestServer> {
  return startTestServer({
    config: { cluster: { natsUrl: nats.url, subjectPrefix: 'nodes-test', nodeName: name, ackTimeoutMs: 3000 } },
  });
}

beforeAll(async () => {
  nats = await startNatsServer();
  nodes = [await startNode('a'), await startNode('b')];
}, 60_000);

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  for (const node of nodes) await node.stop();
  await nats?.remove();
});

async function join(
  node: TestServer,
  databaseId: string,
  site: SiteId,
): Promise<{ c: TestClient; ack: Record<string, unknown> }> {
  const c = await TestClient.open(node.ws);
  clients.push(c);
  const ack = await c.handshake({ databaseId, siteId: encodeSiteId(site) });
  expect(ack.type).toBe('handshake_ack');
  return { c, ack };
}

describe('a cluster of two nodes', () => {
  it('gives a database one server site id and pushes a write acknowledged by one node from the other', async () => {
    const [siteA, siteB] = [newSiteId(), newSiteId()];
    const a = await join(nodes[0]!, 'shop', siteA);
    const b = await join(nodes[1]!, 'shop', siteB);
    expect(b.ack['serverSiteId']).toBe(a.ack['serverSiteId']);

    const sent = wire(writeRow(siteA, 'items', [1], { id: 1, name: 'tea' }));
    a.c.send({ type: 'apply_changes', requestId: 'r1', changes: [sent] });
    expect(await a.c.next('apply_result')).toMatchObject({ requestId: 'r1', applied: 2 });
    expect(await b.c.next('push_changes')).toEqual({ type: 'push_changes', changeSets: [sent] });
    // Per-node metrics: node a appended it, node b merged it from the log.
    const scrape = async (node: TestServer) => (await fetch(`${node.http}/metrics`)).text();
    expect(await scrape(nodes[0]!)).toMatch(/sync_cluster_appends_total\{result="ok"\} [1-9]/);
    expect(await scrape(nodes[1]!)).toMatch(/sync_cluster_entries_merged_total\{origin="remote"\} [1-9]/);
    expect(await scrape(nodes[1]!)).toMatch(/sync_cluster_connected 1/);
  });

  it('serves a catch-up from the other node with every acknowledged write (read-your-writes)', async () => {
    const site = newSiteId();
    const writer = await join(nodes[0]!, 'ryw', site);
    const sets = [1, 2, 3].map((i) => wire(writeRow(site, 't', [i], { v: i }, { counter: i })));
    writer.c.send({ type: 'apply_changes', requestId: 'w', changes: sets });
    expect(await writer.c.next('apply_result')).toMatchObject({ applied: 3 });

    // A new client on node b, asking at once: it gets the writes node a acknowledged.
    const reader = await join(nodes[1]!, 'ryw', newSiteId());
    reader.c.send({ type: 'get_changes', requestId: 'g' });
    const reply = await reader.c.next('changes');
    expect(reply['changeSets']).toEqual(sets);
  });

  it('keeps a watermark handed out by one node valid on the other: no full re-send', async () => {
    const writerSite = newSiteId();
    const writer = await join(nodes[0]!, 'hop', writerSite);
    const first = [1, 2].map((i) => wire(writeRow(writerSite, 't', [i], { v: i }, { counter: i })));
    writer.c.send({ type: 'apply_changes', requestId: 'w1', changes: first });
    await writer.c.next('apply_result');

    const readerSite = newSiteId();
    const onA = await join(nodes[0]!, 'hop', readerSite);
    onA.c.send({ type: 'get_changes', requestId: 'g1' });
    const page = await onA.c.next('changes');
    expect(page['changeSets']).toEqual(first);
    const watermark = (first[1] as { hlc: string }).hlc;
    await onA.c.close();

    const later = wire(writeRow(writerSite, 't', [3], { v: 3 }, { counter: 3 }));
    writer.c.send({ type: 'apply_changes', requestId: 'w2', changes: [later] });
    await writer.c.next('apply_result');

    // The same site, now on node b, from the watermark node a gave it: only what is new.
    const onB = await join(nodes[1]!, 'hop', readerSite);
    onB.c.send({ type: 'get_changes', requestId: 'g2', sinceHLC: watermark });
    expect((await onB.c.next('changes'))['changeSets']).toEqual([later]);
  });

  it('serves a snapshot on the other node holding what one node acknowledged', async () => {
    const site = newSiteId();
    const writer = await join(nodes[1]!, 'snap', site);
    writer.c.send({
      type: 'apply_changes',
      requestId: 'w',
      changes: [wire(writeRow(site, 'notes', ['x'], { body: 'hi' }))],
    });
    await writer.c.next('apply_result');
    const reader = await join(nodes[0]!, 'snap', newSiteId());
    reader.c.send({ type: 'get_snapshot', requestId: 's' });
    const chunks: Record<string, unknown>[] = [];
    for (;;) {
      const chunk = await reader.c.next();
      chunks.push(chunk);
      if (chunk.type === 'snapshot_complete' || chunk.type === 'error') break;
    }
    expect(chunks.at(-1)?.type).toBe('snapshot_complete');
    expect(JSON.stringify(chunks)).toContain('"hi"');
  });

  it('resumes on one node a snapshot another node began', async () => {
    const site = newSiteId();
    const writer = await join(nodes[0]!, 'resume', site);
    const sets = [wire(writeRow(site, 'notes', [1], { body: 'a' })), wire(writeRow(site, 'tags', [1], { label: 'b' }))];
    writer.c.send({ type: 'apply_changes', requestId: 'w', changes: sets });
    await writer.c.next('apply_result');
    const snapshotOn = async (node: TestServer, message: Record<string, unknown>): Promise<SnapshotChunk[]> => {
      const { c } = await join(node, 'resume', site);
      c.send(message);
      const chunks: SnapshotChunk[] = [];
      for (let m = await c.next(); m.type === 'snapshot_chunk'; m = await c.next())
        chunks.push(decodeSnapshotChunk(m['chunk']));
      return chunks;
    };
    const first = await snapshotOn(nodes[0]!, { type: 'get_snapshot' });
    const header = first[0];
    if (header?.type !== 'header') throw new Error('no header');
    const resumed = await snapshotOn(nodes[1]!, {
      type: 'resume_snapshot',
      checkpoint: {
        snapshotId: header.snapshotId,
        siteId: encodeSiteId(site),
        hlc: encodeHLC(header.hlc),
        lastTableIndex: 0,
        lastEntryIndex: 0,
        completedTables: ['main.notes'],
        entriesProcessed: 1,
        createdAt: Date.now(),
      },
    });
    // The same snapshot, carried on by node b: only the table not completed yet.
    expect(resumed[0]).toMatchObject({ type: 'header', snapshotId: header.snapshotId });
    expect(resumed.flatMap((x) => (x.type === 'table-start' ? [x.table] : []))).toEqual(['tags']);
    expect(await metricValue(nodes[1]!.server.service.metrics.resumeRefusalsTotal)).toBe(0);
  });

  it('refuses writes with STORAGE_UNAVAILABLE and turns unready while NATS is down, then recovers', async () => {
    const site = newSiteId();
    const { c } = await join(nodes[0]!, 'outage', site);
    await nats.kill();
    c.send({ type: 'apply_changes', requestId: 'lost', changes: [wire(writeRow(site, 't', [1], { v: 1 }))] });
    expect(await c.next('error')).toMatchObject({ code: 'STORAGE_UNAVAILABLE', requestId: 'lost' });
    expect(await readyStatus(nodes[0]!.http)).toBe(503);

    await nats.start();
    const again = await eventually(async () => (await readyStatus(nodes[0]!.http)) === 200, 20_000);
    expect(again).toBe(true);
    // Writes are taken again, on the other node too (a first open may still meet JetStream
    // settling its stream: STORAGE_UNAVAILABLE, which clients retry).
    const set = wire(writeRow(site, 't', [2], { v: 2 }, { counter: 2 }));
    const written = await eventually(async () => {
      const retry = await TestClient.open(nodes[1]!.ws);
      clients.push(retry);
      if ((await retry.handshake({ databaseId: 'outage', siteId: encodeSiteId(site) })).type !== 'handshake_ack') {
        return false;
      }
      retry.send({ type: 'apply_changes', requestId: 'ok', changes: [set] });
      const reply = await retry.next();
      return reply.type === 'apply_result';
    }, 20_000);
    expect(written).toBe(true);
  }, 60_000);
});
