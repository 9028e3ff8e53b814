// S3 in a cluster, with nodes in this process over one real nats-server and a real S3 server
// (s3rver): each batch is uploaded once, by the node holding the database's archiving turn, under
// a key every node derives alike; snapshots are images of the holder's file, after which the log
// is trimmed; a node with no file, or with a copy older than the trimmed log, rebuilds from the
// newest image plus the log and honours watermarks other nodes handed out; eviction is per node.
import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { newSiteId } from '@syncord/core';
import type { S3Client } from '@aws-sdk/client-s3';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import type { Counter, Gauge } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseToken, JetStreamLog } from '../src/cluster/jetstream-log.js';
import { positionOfImageKey } from '../src/durability/archive-keys.js';
import { restoreDatabase } from '../src/durability/restore.js';
import { openServerReplica } from '../src/service/database-stores.js';
import { wire, writeRow } from './support/change-sets.js';
import { cellsOf, eventually, joinNode, readAll, readyStatus } from './support/cluster-nodes.js';
import { metricValue } from './support/metric-value.js';
import { startNatsServer } from './support/nats-server.js';
import { getObject, listKeys, s3Settings, useS3Server } from './support/s3-objects.js';
import type { S3TestServer } from './support/s3-server.js';
import { startTestServer, tempDir, type ConfigOverrides, type TestServer } from './support/test-server.js';

let nats: Awaited<ReturnType<typeof startNatsServer>>;
let s3: S3TestServer;
let client: S3Client;
useS3Server((server, c) => {
  s3 = server;
  client = c;
});
const running: TestServer[] = [];

beforeAll(async () => {
  nats = await startNatsServer();
}, 60_000);

afterAll(async () => {
  for (const node of running) await node.stop().catch(() => undefined);
  await nats?.remove();
});

interface Node {
  readonly name: string;
  readonly server: TestServer;
}

/** A node of the cluster `prefix`, archiving under `<prefix>/` in the test bucket. */
async function startNode(
  prefix: string,
  name: string,
  options: { dataDir?: string; s3?: Record<string, unknown>; more?: ConfigOverrides } = {},
): Promise<Node> {
  const server = await startTestServer({
    ...(options.dataDir ? { dataDir: options.dataDir } : {}),
    config: {
      cluster: { natsUrl: nats.url, subjectPrefix: prefix, nodeName: name, ackTimeoutMs: 3000, archiveTurnMs: 1200 },
      s3: { ...s3Settings(s3, `${prefix}/`), ...options.s3 },
      ...options.more,
    },
  });
  running.push(server);
  return { name, server };
}

function metric(node: Node, name: string): Promise<number> {
  return metricValue(node.server.server.service.metrics.registry.getSingleMetric(name) as Counter | Gauge);
}

/** Writes row `i` (two columns) through `node` and waits for its acknowledgement. */
async function writeThrough(node: Node, databaseId: string, rows: number[]): Promise<void> {
  const site = newSiteId();
  const { client: c } = await joinNode(node, databaseId, site);
  try {
    for (const i of rows) {
      c.send({
        type: 'apply_changes',
        requestId: `w${i}`,
        changes: [wire(writeRow(site, 'items', [i], { name: `row ${i}`, n: i }, { counter: i }))],
      });
      expect(await c.next('apply_result')).toMatchObject({ requestId: `w${i}`, applied: 2 });
    }
  } finally {
    await c.close();
  }
}

/** The row numbers `node` serves for the database, in order. */
async function rowsOn(node: Node, databaseId: string): Promise<number[]> {
  const cells = cellsOf(await readAll(node, databaseId));
  return [...cells]
    .filter(([key]) => JSON.parse(key)[2] === 'n')
    .map(([, value]) => Number(value))
    .sort((a, b) => a - b);
}

const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('S3 in a cluster', () => {
  it('uploads each batch once, from the node holding the turn, under a key every node derives alike', async () => {
    const a = await startNode('once', 'a');
    const b = await startNode('once', 'b');
    // The first node to open the database takes its turn; the other records and waits.
    const keepOpen = await joinNode(a, 'ledger');
    expect(await eventually(async () => (await metric(a, 'sync_s3_archiving_turns')) === 1)).toBe(true);
    const alsoOpen = await joinNode(b, 'ledger');
    await writeThrough(a, 'ledger', range(1, 6));
    await writeThrough(b, 'ledger', range(7, 12));

    const prefix = 'once/ledger/batches/';
    expect(await eventually(async () => (await listKeys(client, s3.bucket, prefix)).length >= 12)).toBe(true);
    const keys = await listKeys(client, s3.bucket, prefix);
    expect(keys).toHaveLength(12);
    expect(await metric(a, 'sync_s3_batch_uploads_total')).toBe(12);
    expect(await metric(b, 'sync_s3_batch_uploads_total')).toBe(0);
    expect(await metric(b, 'sync_s3_archiving_turns')).toBe(0);

    const bodies = await Promise.all(
      keys.map(async (key) => JSON.parse((await getObject(client, s3.bucket, key)).body.toString('utf8'))),
    );
    const positions = bodies.map((body: { logSeq: number }) => body.logSeq);
    expect(new Set(positions).size).toBe(12);
    for (const [i, body] of bodies.entries()) {
      expect(keys[i]!.endsWith(`_${body.batchId}.json`)).toBe(true);
      expect(body).toMatchObject({ databaseId: 'ledger', metadata: { applied: 2 } });
    }
    // The turn passes when its holder leaves. b still holds its own records of the twelve: it
    // drops them (a published that the bucket has them) and uploads only what is written next.
    await keepOpen.client.close();
    await a.server.stop();
    await writeThrough(b, 'ledger', [13]);
    expect(await eventually(async () => (await listKeys(client, s3.bucket, prefix)).length === 13)).toBe(true);
    expect(await eventually(async () => (await metric(b, 'sync_s3_outbox_depth')) === 0)).toBe(true);
    expect(await metric(b, 'sync_s3_batch_uploads_total')).toBe(1);
    await alsoOpen.client.close();
  });

  it('snapshots as images of the holder, trims the log below them, and rebuilds other nodes from them', async () => {
    const prefix = 'img';
    const small = { snapshotChanges: 10 };
    const a = await startNode(prefix, 'a', { s3: small });
    // b opens the database early, then closes it: its file stays behind at an old position.
    const bDir = tempDir();
    const b = await startNode(prefix, 'b', {
      dataDir: bDir,
      s3: small,
      more: { stores: { idleCloseMs: 50, cleanupIntervalMs: 20 } },
    });
    const writer = await joinNode(a, 'shop');
    await writeThrough(a, 'shop', [1]);
    expect(await rowsOn(b, 'shop')).toEqual([1]);
    const bFile = b.server.server.service.stores.filePathFor('shop');
    expect(await eventually(async () => !b.server.server.service.stores.isOpen('shop'))).toBe(true);
    expect(existsSync(bFile)).toBe(true);
    const nc = await connect({ servers: nats.url });
    const jsm = await jetstreamManager(nc);
    const subject = `${prefix}.db.${databaseToken('shop')}`;
    const entry = async (which: 'first' | 'last') => {
      const query = which === 'first' ? { next_by_subj: subject, seq: 1 } : { last_by_subj: subject };
      return (await jsm.streams.getMessage(`${prefix}_log`, query))?.seq ?? 0;
    };
    // Nothing b's copy holds is past this entry.
    const bHolds = await entry('last');

    // A client in sync on a, with its watermark.
    const reader = newSiteId();
    await writeThrough(a, 'shop', range(2, 30));
    const seen = await readAll(a, 'shop', undefined, reader);
    expect(seen.length).toBe(30);
    const watermark = String(seen.at(-1)!['hlc']);

    const images = 'img/shop/images/';
    expect(await eventually(async () => (await listKeys(client, s3.bucket, images)).length >= 2)).toBe(true);
    const positions = (await listKeys(client, s3.bucket, images)).map((k) => positionOfImageKey(k) ?? -1);
    expect(positions.every((p) => p > 0)).toBe(true);
    // Trimmed through the image before the newest, well past what b's copy holds.
    expect(await eventually(async () => (await entry('first')) > bHolds + 1)).toBe(true);
    await nc.close();
    expect(await metric(b, 'sync_s3_snapshots_total')).toBe(0);

    // A new node with an empty data dir: the newest image, then the log.
    const c = await startNode(prefix, 'c', { s3: small });
    expect(await rowsOn(c, 'shop')).toEqual(range(1, 30));
    expect(await metric(c, 'sync_s3_restores_total')).toBe(1);
    // The same file as a's at that position: a's watermark needs nothing more here.
    expect(await readAll(c, 'shop', watermark, reader)).toEqual([]);

    // b's old copy cannot catch up from the trimmed log: it is replaced by the newest image.
    expect(await rowsOn(b, 'shop')).toEqual(range(1, 30));
    expect(await metric(b, 'sync_s3_restores_total')).toBe(1);
    await writer.client.close();

    // Point-in-time restore (`syncord restore`) reads a cluster's archive too: image plus batches.
    const durability = a.server.server.service.durability!;
    expect(await durability.flushAll()).toBe(true);
    const outDir = tempDir();
    const out = path.join(outDir, 'shop.sqlite');
    const report = await restoreDatabase({
      store: durability.store,
      layout: durability.layoutFor('shop'),
      targetFile: out,
      openFile: (file, siteId) => openServerReplica(a.server.server.service.config, file, siteId),
    });
    expect(report?.base?.kind).toBe('images');
    const restored = openServerReplica(a.server.server.service.config, out);
    const values = restored
      .getChangesSince(newSiteId())
      .flatMap((set) => set.changes.flatMap((c) => (c.type === 'column' && c.column === 'n' ? [c.value] : [])));
    restored.close();
    rmSync(outDir, { recursive: true, force: true });
    expect(values.map(Number).sort((x, y) => x - y)).toEqual(range(1, 30));
  });

  it('evicts an idle database from a node without uploading an image of its own', async () => {
    const prefix = 'evict';
    const a = await startNode(prefix, 'a');
    const b = await startNode(prefix, 'b', {
      more: { stores: { idleCloseMs: 50, cleanupIntervalMs: 20 }, diskEviction: { enabled: true, idleMs: 100 } },
    });
    const holder = await joinNode(a, 'notes');
    await writeThrough(b, 'notes', range(1, 3));
    const file = b.server.server.service.stores.filePathFor('notes');
    expect(await eventually(async () => !existsSync(file))).toBe(true);
    expect(await metric(b, 'sync_s3_evictions_total')).toBe(1);
    expect(JSON.parse(readFileSync(`${file}.evicted`, 'utf8'))).toMatchObject({ databaseId: 'notes', image: '' });
    expect(await listKeys(client, s3.bucket, 'evict/notes/images/')).toEqual([]);
    // Back on the next open, from the log.
    await writeThrough(a, 'notes', [4]);
    expect(await rowsOn(b, 'notes')).toEqual(range(1, 4));
    expect(existsSync(`${file}.evicted`)).toBe(false);
    await holder.client.close();
  });

  // Last: it restarts the shared nats-server.
  it('stops a copy whose tail would resume below the trimmed log instead of skipping entries', async () => {
    const prefix = 'guard';
    const node = await startNode(prefix, 'g');
    const site = newSiteId();
    const { client: c } = await joinNode(node, 'late', site);
    const write = (i: number) =>
      c.send({
        type: 'apply_changes',
        requestId: `w${i}`,
        changes: [wire(writeRow(site, 'items', [i], { n: i }, { counter: i }))],
      });
    write(1);
    expect(await c.next('apply_result')).toMatchObject({ applied: 1 });
    // As if the holder had trimmed far past this copy while it was cut off from NATS.
    const board = await JetStreamLog.open({
      servers: nats.url,
      subjectPrefix: prefix,
      replicas: 1,
      duplicateWindowMs: 120_000,
      nodeName: 'test',
      ackTimeoutMs: 3000,
    });
    expect(await board.writeBoard('trimmed', 'late', String((await board.lastSeq('late')) + 1000))).toBe(true);
    await board.close();
    await nats.kill();
    await nats.start();
    expect(await eventually(async () => (await readyStatus(node.server.http)) === 200, 20_000)).toBe(true);
    write(2);
    expect(await c.next('error')).toMatchObject({ code: 'STORAGE_UNAVAILABLE', requestId: 'w2' });
    await c.close();
  }, 60_000);
});
