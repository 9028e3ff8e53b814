// Restore from S3 against a real S3 server: eviction of an idle database and its transparent
// return (same file bytes, same server site id, and a delta catch-up for a client that was in
// sync), restore after the local disk was lost (snapshot + later batches), and a failed restore
// that leaves nothing behind and succeeds on the next open.
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { encodeSiteId } from '@syncord/core';
import type { S3Client } from '@aws-sdk/client-s3';
import type { Counter, Gauge } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { newSiteId, wire, writeRow, writeRows } from './support/change-sets.js';
import { getObject, listKeys, s3Settings, until, useS3Server } from './support/s3-objects.js';
import type { S3TestServer } from './support/s3-server.js';
import { startTestServer, tempDir, type TestServer } from './support/test-server.js';
import { TestClient, type ServerJson } from './support/ws-client.js';

let s3: S3TestServer;
let client: S3Client;
useS3Server((server, c) => {
  s3 = server;
  client = c;
});

interface Peer {
  socket: TestClient;
  ack: ServerJson;
}

async function join(server: TestServer, databaseId: string, site: Uint8Array): Promise<Peer> {
  const socket = await TestClient.open(server.ws);
  const ack = await socket.handshake({ databaseId, siteId: encodeSiteId(site) });
  return { socket, ack };
}

async function catchUp(peer: Peer, sinceHLC?: string): Promise<Record<string, unknown>[]> {
  peer.socket.send({ type: 'get_changes', ...(sinceHLC ? { sinceHLC } : {}) });
  return (await peer.socket.next('changes')).changeSets as Record<string, unknown>[];
}

async function write(server: TestServer, databaseId: string, site: Uint8Array, sets: unknown[]): Promise<void> {
  const peer = await join(server, databaseId, site);
  peer.socket.send({ type: 'apply_changes', requestId: 'w', changes: sets });
  expect(await peer.socket.next('apply_result')).toMatchObject({ requestId: 'w' });
  await peer.socket.close();
}

describe('disk eviction', () => {
  it('evicts an idle database and restores it on open: same bytes, same site id, delta catch-up', async () => {
    const server = await startTestServer({
      config: {
        s3: s3Settings(s3, 'evict/'),
        stores: { idleCloseMs: 30, cleanupIntervalMs: 20 },
        diskEviction: { enabled: true, idleMs: 400 },
      },
    });
    const id = 'evict:me';
    const file = server.server.service.stores.filePathFor(id);
    try {
      const writer = newSiteId();
      await write(server, id, writer, [
        wire(writeRows(writer, 'items', 1, 20, 'v', 'a', { counter: 1 })),
        wire(writeRow(writer, 'items', [21], { v: { __bin: 'AAEC' }, w: 2 ** 40 }, { counter: 2 })),
      ]);
      const reader = newSiteId();
      const before = await join(server, id, reader);
      const everything = await catchUp(before);
      const watermark = everything.at(-1)!.hlc as string;
      await before.socket.close();

      await until(() => !server.server.service.stores.isOpen(id), 'the store to close');
      const bytes = readFileSync(file);
      await until(() => !existsSync(file), 'the eviction');
      const evictions = server.server.service.metrics.registry.getSingleMetric('sync_s3_evictions_total') as Counter;
      expect((await evictions.get()).values[0]?.value).toBe(1);
      const images = await listKeys(client, s3.bucket, 'evict/evict/me/images/');
      expect(images).toHaveLength(1);
      expect(gunzipSync((await getObject(client, s3.bucket, images[0]!)).body).equals(bytes)).toBe(true);

      // The admin page lists it as evicted (from the marker it left), without restoring it.
      const admin = async (route: string) =>
        ((await (await fetch(`${server.http}/admin/api${route}`)).json()) as { data: Record<string, unknown> }).data;
      expect(existsSync(`${file}.evicted`)).toBe(true);
      expect(await admin('/databases?q=evict')).toMatchObject({
        total: 1,
        items: [{ databaseId: id, state: 'evicted', evictedAt: expect.any(Number) as number }],
      });
      expect(await admin(`/databases/${id}`)).not.toHaveProperty('replica');
      expect(await admin('/overview')).toMatchObject({
        databases: { evicted: 1 },
        s3: { enabled: true, evictions: 1 },
      });
      expect(existsSync(file)).toBe(false);

      // A new client opens it: restored transparently, identity and data intact.
      const fresh = await join(server, id, newSiteId());
      expect(fresh.ack.serverSiteId).toBe(before.ack.serverSiteId);
      expect(existsSync(`${file}.evicted`)).toBe(false);
      expect(await catchUp(fresh)).toEqual(everything);
      await fresh.socket.close();

      // One more write, then the reader comes back with its watermark: only the new write.
      await write(server, id, writer, [wire(writeRow(writer, 'items', [22], { v: 'new' }, { counter: 3 }))]);
      const back = await join(server, id, reader);
      expect(back.ack.serverSiteId).toBe(before.ack.serverSiteId);
      const delta = await catchUp(back, watermark);
      expect(delta).toHaveLength(1);
      expect((delta[0]!.changes as { pk: unknown[] }[]).map((c) => c.pk)).toEqual([[22]]);
      await back.socket.close();
    } finally {
      await server.stop();
    }
  });
});

describe('disk eviction with batches not yet in S3', () => {
  it('keeps the file while its outbox holds batches, and evicts once they are uploaded', async () => {
    const server = await startTestServer({
      config: {
        s3: { ...s3Settings(s3, 'unsafe/'), flushTimeoutMs: 100 },
        stores: { idleCloseMs: 30, cleanupIntervalMs: 20 },
        diskEviction: { enabled: true, idleMs: 50 },
      },
    });
    const id = 'unsafe';
    const file = server.server.service.stores.filePathFor(id);
    const depth = async () => {
      const gauge = server.server.service.metrics.registry.getSingleMetric('sync_s3_outbox_depth') as Gauge;
      return (await gauge.get()).values[0]?.value ?? -1;
    };
    try {
      const writer = newSiteId();
      const peer = await join(server, id, writer); // opened while S3 is up
      await s3.down();
      peer.socket.send({
        type: 'apply_changes',
        requestId: 'w',
        changes: [wire(writeRow(writer, 't', [1], { v: 1 }))],
      });
      expect(await peer.socket.next('apply_result')).toMatchObject({ applied: 1 });
      await peer.socket.close();
      await until(() => !server.server.service.stores.isOpen(id), 'the store to close');
      // Closed, idle far past DISK_EVICTION_IDLE_MS, but its batch is only on local disk.
      for (let i = 0; i < 10; i++) await server.server.service.durability!.sweepClosed();
      expect(existsSync(file)).toBe(true);
      expect(await depth()).toBe(1);

      await s3.up();
      await until(() => !existsSync(file), 'the eviction once S3 is back');
      expect(await depth()).toBe(0);
      expect(await listKeys(client, s3.bucket, 'unsafe/unsafe/batches/')).toHaveLength(1);
      expect(await listKeys(client, s3.bucket, 'unsafe/unsafe/images/')).toHaveLength(1);
    } finally {
      await s3.up();
      await server.stop();
    }
  });
});

describe('restore after the local disk is lost', () => {
  it('rebuilds from the newest snapshot plus later batches, keeping the server site id', async () => {
    const dataDir = tempDir();
    const settings = { s3: s3Settings(s3, 'loss/') };
    const id = 'loss:db';
    const writer = newSiteId();
    let first = await startTestServer({ dataDir, config: settings });
    let everything: Record<string, unknown>[];
    let siteId: unknown;
    try {
      await write(first, id, writer, [wire(writeRows(writer, 'items', 1, 30, 'v', 1, { counter: 1 }))]);
      const peer = await join(first, id, newSiteId());
      await first.server.service.durability!.snapshotNow(id);
      peer.socket.send({
        type: 'apply_changes',
        requestId: 'x',
        changes: [wire(writeRows(writer, 'items', 10, 30, 'v', 2, { counter: 2 }))],
      });
      await peer.socket.next('apply_result');
      expect(await first.server.service.durability!.flushAll(5000)).toBe(true);
      everything = await catchUp(peer);
      siteId = peer.ack.serverSiteId;
      await peer.socket.close();
    } finally {
      await first.stop();
    }
    rmSync(dataDir, { recursive: true, force: true });

    first = await startTestServer({ dataDir, config: settings });
    try {
      const peer = await join(first, id, newSiteId());
      expect(peer.ack.serverSiteId).toBe(siteId);
      expect(await catchUp(peer)).toEqual(everything);
      await peer.socket.close();
    } finally {
      await first.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('is retryable while S3 is down (no bucket URL told), leaves no file behind, and succeeds on the next open', async () => {
    const dataDir = tempDir();
    const settings = { s3: s3Settings(s3, 'fail/') };
    const id = 'fail:db';
    const writer = newSiteId();
    let server = await startTestServer({ dataDir, config: settings });
    await write(server, id, writer, [wire(writeRows(writer, 'items', 1, 5, 'v', 1))]);
    const ack = await (await join(server, id, newSiteId())).ack;
    expect(await server.server.service.durability!.flushAll(5000)).toBe(true);
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });

    server = await startTestServer({ dataDir, config: settings });
    try {
      await s3.down();
      const socket = await TestClient.open(server.ws);
      const refused = await socket.handshake({ databaseId: id, siteId: encodeSiteId(newSiteId()) });
      // Not the fatal AUTH_FAILED: a real client retries with backoff instead of stopping for good.
      expect(refused).toMatchObject({ type: 'error', code: 'STORAGE_UNAVAILABLE', fatal: false });
      expect(String(refused.message)).toMatch(/^Database fail:db cannot be opened right now/);
      expect(String(refused.message)).not.toContain('s3://');
      expect(await socket.closed).toEqual({ code: 1013, reason: 'Try again later' });
      const http = await fetch(`${server.http}/${id}/changes`, { headers: { 'x-site-id': encodeSiteId(newSiteId()) } });
      expect(http.status).toBe(503);
      const body = await http.text();
      expect(JSON.parse(body)).toMatchObject({ ok: false, error: { code: 'STORAGE_UNAVAILABLE' } });
      expect(body).not.toContain('s3://');
      expect(readdirSync(dataDir)).toEqual([]);

      await s3.up();
      const peer = await join(server, id, newSiteId());
      expect(peer.ack.serverSiteId).toBe(ack.serverSiteId);
      expect(await catchUp(peer)).toHaveLength(1);
      await peer.socket.close();
    } finally {
      await s3.up().catch(() => undefined);
      await server.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
