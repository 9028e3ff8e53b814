// The S3 archive against a real S3 server (s3rver): batch objects with §10.2 keys, metadata and
// bodies; snapshots streamed as gzip in the §10.2 format, on the change threshold; retention.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { decodeSnapshotChunk, encodeSiteId } from '@syncord/core';
import { openSqliteReplica } from '@syncord/core/sqlite';
import { restoreDatabase } from '@syncord/coordinator';
import type { S3Client } from '@aws-sdk/client-s3';
import { afterEach, describe, expect, it } from 'vitest';
import { newSiteId, wire, writeRow, writeRows, BASE_WALL } from './support/change-sets.js';
import { getObject, listKeys, s3Settings, snapshotJson, until, useS3Server } from './support/s3-objects.js';
import type { S3TestServer } from './support/s3-server.js';
import { startTestServer, type TestServer } from './support/test-server.js';
import { TestClient } from './support/ws-client.js';

let s3: S3TestServer;
let client: S3Client;
const servers: TestServer[] = [];
const sockets: TestClient[] = [];

useS3Server((server, c) => {
  s3 = server;
  client = c;
});
afterEach(async () => {
  for (const c of sockets.splice(0)) await c.close();
  for (const s of servers.splice(0)) await s.stop();
});

const TS = '\\d{4}-\\d{2}-\\d{2}T\\d{2}-\\d{2}-\\d{2}-\\d{3}Z';
const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';

async function connect(server: TestServer, databaseId: string, site = newSiteId()) {
  const socket = await TestClient.open(server.ws);
  sockets.push(socket);
  const ack = await socket.handshake({ databaseId, siteId: encodeSiteId(site) });
  expect(ack.type).toBe('handshake_ack');
  return { socket, site, serverSiteId: ack.serverSiteId as string };
}

describe('S3 batch archive', () => {
  it('uploads one §10.2 batch object per apply that applied something', async () => {
    const server = await startTestServer({ config: { s3: s3Settings(s3, 'archive/') } });
    servers.push(server);
    const { socket, site, serverSiteId } = await connect(server, 'acme:notes.v2');
    const sets = [
      writeRow(site, 'notes', [1], { id: 1, title: 'hello' }),
      writeRow(site, 'notes', [2], { id: 2 }, { counter: 1 }),
    ];
    socket.send({ type: 'apply_changes', requestId: 'apply-1', changes: sets.map(wire) });
    expect(await socket.next('apply_result')).toMatchObject({ requestId: 'apply-1', applied: 3 });
    // A duplicate applies nothing and archives nothing.
    socket.send({ type: 'apply_changes', requestId: 'apply-2', changes: sets.map(wire) });
    expect(await socket.next('apply_result')).toMatchObject({ applied: 0, conflicts: 3 });

    expect(await server.server.service.durability!.flushAll(5000)).toBe(true);
    const keys = await listKeys(client, s3.bucket, 'archive/');
    expect(keys).toHaveLength(1);
    const key = keys[0]!;
    expect(key).toMatch(new RegExp(`^archive/acme/notes_v2/batches/${TS}_${UUID}\\.json$`));

    const object = await getObject(client, s3.bucket, key);
    expect(object.contentType).toBe('application/json');
    const body = JSON.parse(object.body.toString('utf8')) as Record<string, unknown>;
    const batchId = key.slice(key.lastIndexOf('_') + 1, -'.json'.length);
    expect(body).toEqual({
      batchId,
      databaseId: 'acme:notes.v2',
      timestamp: expect.any(String) as string,
      clientId: encodeSiteId(site),
      changes: sets.map(wire),
      metadata: { applied: 3, skipped: 0, conflicts: 0 },
      serverSiteId,
    });
    // The key's time is the body's timestamp (the apply's, not the upload's).
    expect(key).toContain(`/batches/${(body.timestamp as string).replace(/[:.]/g, '-')}_`);
    expect(object.metadata).toEqual({
      'x-batch-id': batchId,
      'x-database-id': 'acme:notes.v2',
      'x-client-id': encodeSiteId(site),
      'x-change-count': '2',
    });
  });
});

describe('graceful shutdown', () => {
  it('uploads the outbox before the databases close, after an outage', async () => {
    const server = await startTestServer({ config: { s3: { ...s3Settings(s3, 'stop/'), retryMaxDelayMs: 600_000 } } });
    const { socket, site } = await connect(server, 'stopping');
    await s3.down();
    try {
      socket.send({ type: 'apply_changes', requestId: 'a', changes: [wire(writeRow(site, 't', [1], { v: 1 }))] });
      expect(await socket.next('apply_result')).toMatchObject({ applied: 1 });
      // The upload failed and waits for its next attempt (backoff).
      const failures = server.server.service.metrics.registry.getSingleMetric('sync_s3_batch_upload_failures_total');
      await until(async () => ((await failures!.get()).values[0]?.value ?? 0) > 0, 'the failed upload');
    } finally {
      await s3.up();
    }
    await server.stop(); // stopping flushes: it ends the wait and tries again at once
    sockets.splice(0);
    expect(await listKeys(client, s3.bucket, 'stop/stopping/batches/')).toHaveLength(1);
  });
});

describe('S3 snapshots', () => {
  it('streams a gzip §10.2 snapshot once the change threshold is reached, and keeps the newest N', async () => {
    const server = await startTestServer({
      config: { s3: { ...s3Settings(s3, 'snap/'), snapshotChanges: 50, keepSnapshots: 2 } },
    });
    servers.push(server);
    const { socket, site, serverSiteId } = await connect(server, 'acme:big');
    const snapshotKeys = () => listKeys(client, s3.bucket, 'snap/acme/big/snapshots/');
    let requestId = 0;
    const apply = async (count: number, counter: number) => {
      socket.send({
        type: 'apply_changes',
        requestId: `apply-${++requestId}`,
        changes: [wire(writeRows(site, 'items', counter * 1000, count, 'n', counter, { counter, wall: BASE_WALL }))],
      });
      // waitFor: a large page is also followed by a request_changes, which this client ignores.
      expect(await socket.waitFor('apply_result')).toMatchObject({ applied: count });
    };
    await apply(10, 1);
    await server.server.service.durability!.flushAll(5000);
    expect(await snapshotKeys()).toEqual([]); // 10 < 50
    await new Promise((r) => setTimeout(r, 5));
    const beforeSnapshots = Date.now();
    await new Promise((r) => setTimeout(r, 5));
    await apply(1500, 2); // crosses the threshold: more than one chunk of 1000 entries
    await until(async () => (await snapshotKeys()).length === 1, 'the first snapshot');

    const [key] = await snapshotKeys();
    expect(key).toMatch(new RegExp(`^snap/acme/big/snapshots/${TS}_${UUID}\\.json$`));
    const object = await getObject(client, s3.bucket, key!);
    expect([object.contentType, object.contentEncoding]).toEqual(['application/gzip', 'gzip']);
    const json = snapshotJson(object);
    expect(Object.keys(json)).toEqual(['snapshotId', 'databaseId', 'timestamp', 'prunedHorizon', 'chunks']);
    expect(json.prunedHorizon).toBe('none'); // ours: nothing pruned yet
    expect(json.databaseId).toBe('acme:big');
    const chunks = json.chunks.map((c, i) => decodeSnapshotChunk(c, `chunk ${i}`));
    expect(chunks.map((c) => c.type)).toEqual([
      'header',
      'table-start',
      'column-versions',
      'column-versions',
      'table-end',
      'footer',
    ]);
    const header = chunks[0]!;
    expect(header.type === 'header' && encodeSiteId(header.siteId)).toBe(serverSiteId);
    expect(header.type === 'header' && header.snapshotId).toBe(json.snapshotId);
    expect(object.metadata).toMatchObject({
      'x-snapshot-id': json.snapshotId,
      'x-database-id': 'acme:big',
      'x-table-count': '1',
    });
    const footer = chunks.at(-1)!;
    expect(footer.type === 'footer' && footer.totalEntries).toBe(1510);

    // Two more snapshots: the oldest goes, and with it the batches only it needed.
    await apply(60, 3);
    await until(async () => (await snapshotKeys()).length === 2, 'the second snapshot');
    await apply(60, 4);
    await until(async () => {
      const now = await snapshotKeys();
      return now.length === 2 && !now.includes(key!);
    }, 'the third snapshot and pruning');
    const batches = await listKeys(client, s3.bucket, 'snap/acme/big/batches/');
    expect(batches.length).toBeGreaterThan(0); // recent batches stay (the replay margin keeps them)

    // A moment before the oldest kept snapshot is outside the window: refused, not half-restored.
    const durability = server.server.service.durability!;
    const target = path.join(server.dataDir, 'pitr.sqlite');
    await expect(
      restoreDatabase({
        store: durability.store,
        layout: durability.layoutFor('acme:big'),
        targetFile: target,
        at: beforeSnapshots,
        openFile: (file, siteId) => openSqliteReplica(file, siteId ? { siteId } : {}),
      }),
    ).rejects.toThrow(/cannot be restored to .*: retention keeps it restorable from/);
    expect(existsSync(target)).toBe(false);
  });
});
