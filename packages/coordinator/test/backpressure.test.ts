// Backpressure and bounded memory (issue 4 item 1): a client that stops reading while a large
// snapshot and many broadcasts are due costs the server at most maxBufferedBytes plus one message;
// it is closed with 1013 and catches up on reconnect, and the other clients get every push. An
// HTTP NDJSON snapshot nobody reads waits the same way.
import { connect, type Socket } from 'node:net';
import { encodeSiteId, newSiteId } from '@syncord/core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { TOO_FAR_BEHIND } from '@syncord/coordinator';
import { wire, writeRows } from './support/change-sets.js';
import { metricValue } from './support/metric-value.js';
import { startTestServer, type TestServer } from './support/test-server.js';
import { TestClient } from './support/ws-client.js';

const HIGH_WATER = 256 * 1024;
const MAX_BUFFERED = 2 * 1024 * 1024;
/** 16 000 cells of 1 KiB: a snapshot well past what loopback kernel buffers absorb. */
const SNAPSHOT_ROWS = 16_000;
const PUSHES = 60;
const ROWS_PER_PUSH = 100;
const VALUE = 'v'.repeat(1024);

let srv: TestServer;
const clients: TestClient[] = [];
beforeAll(async () => {
  srv = await startTestServer({
    config: { limits: { sendHighWaterBytes: HIGH_WATER, maxBufferedBytes: MAX_BUFFERED } },
  });
});
afterAll(async () => {
  for (const c of clients) c.socket.terminate();
  await srv.stop();
});

async function join(databaseId: string, site = newSiteId()): Promise<TestClient> {
  const c = await TestClient.open(srv.ws);
  clients.push(c);
  expect((await c.handshake({ databaseId, siteId: encodeSiteId(site) })).type).toBe('handshake_ack');
  return c;
}

/** Pulls every change set with one get_changes: the catch-up arrives as pages until one without `more`. */
async function catchUp(c: TestClient): Promise<number> {
  c.send({ type: 'get_changes' });
  let facts = 0;
  for (let page = 0; page < 1000; page++) {
    const reply = await c.next('changes');
    for (const cs of reply.changeSets as { changes: unknown[] }[]) facts += cs.changes.length;
    if (reply.more !== true) return facts;
  }
  throw new Error('catch-up did not end');
}

it('bounds a non-reading client, closes it with 1013, keeps others whole, and lets it catch up', async () => {
  const { metrics, stores } = srv.server.service;
  const seeder = newSiteId();
  const handle = await stores.acquire('bp');
  for (let first = 0; first < SNAPSHOT_ROWS; first += 1000) {
    handle.replica.applyChanges([writeRows(seeder, 'big', first, 1000, 'v', VALUE, { counter: first / 1000 })]);
  }
  handle.release();

  const healthy = await join('bp');
  const slowSite = newSiteId();
  const slow = await join('bp', slowSite);
  // Stop reading at the TCP level: the kernel buffers fill, then the server's send buffer would.
  (slow.socket as unknown as { _socket: Socket })._socket.pause();
  slow.send({ type: 'get_snapshot' });

  // An HTTP NDJSON snapshot whose client never reads either.
  const raw = connect(Number(new URL(srv.origin).port), '127.0.0.1');
  raw.on('error', () => {});
  raw.pause();
  raw.write(`GET /sync/bp/snapshot HTTP/1.1\r\nHost: x\r\nX-Site-Id: ${encodeSiteId(newSiteId())}\r\n\r\n`);

  const writerSite = newSiteId();
  const writer = await join('bp', writerSite);
  let largestPush = 0;
  healthy.socket.on('message', (data: Buffer) => (largestPush = Math.max(largestPush, data.length)));
  for (let i = 0; i < PUSHES; i++) {
    const cs = writeRows(writerSite, 'pushed', i * ROWS_PER_PUSH, ROWS_PER_PUSH, 'v', VALUE, { counter: 100 + i });
    writer.send({ type: 'apply_changes', requestId: `apply-${i}`, changes: [wire(cs)] });
    // waitFor: a page this size is also followed by a request_changes, which this writer ignores.
    expect(await writer.waitFor('apply_result')).toMatchObject({ requestId: `apply-${i}`, applied: ROWS_PER_PUSH });
  }
  // The healthy client got every push, in order.
  for (let i = 0; i < PUSHES; i++) {
    const push = await healthy.next('push_changes');
    const [cs] = push.changeSets as { changes: { pk: number[] }[] }[];
    expect(cs?.changes[0]?.pk).toEqual([i * ROWS_PER_PUSH]);
  }

  await expect.poll(() => metricValue(metrics.limitRejectionsTotal, { limit: 'maxBufferedBytes' })).toBe(1);
  // Both snapshots stalled instead of reading the rest of the database into memory: neither
  // finished, and together they sent fewer chunks than one whole snapshot has.
  const snapshotChunks = Math.ceil(SNAPSHOT_ROWS / 1000) + 4;
  expect(await metricValue(metrics.snapshotStreamsActive)).toBe(2);
  expect(await metricValue(metrics.snapshotChunksTotal)).toBeLessThan(snapshotChunks);
  // The stated bound: maxBufferedBytes plus one message (a 1000-entry chunk is the largest here).
  const largestMessage = Math.max(largestPush, 1000 * (VALUE.length + 200));
  const peak = await metricValue(metrics.sendBufferPeakBytes);
  expect(peak).toBeGreaterThan(MAX_BUFFERED);
  expect(peak).toBeLessThanOrEqual(MAX_BUFFERED + largestMessage);
  expect(await metricValue(metrics.broadcastErrorsTotal)).toBeGreaterThan(0);

  // Reading again, the slow client finds the documented close after what was buffered.
  (slow.socket as unknown as { _socket: Socket })._socket.resume();
  expect(await slow.closed).toEqual({ code: TOO_FAR_BEHIND.code, reason: TOO_FAR_BEHIND.reason });
  raw.destroy();
  await expect.poll(() => metricValue(metrics.snapshotStreamsActive)).toBe(0);

  // It reconnects under the same site and catches up on everything, pushes included.
  const back = await join('bp', slowSite);
  expect(await catchUp(back)).toBe(SNAPSHOT_ROWS + PUSHES * ROWS_PER_PUSH);
  expect(healthy.socket.readyState).toBe(healthy.socket.OPEN);
  expect(await healthy.drain()).toEqual([]);
}, 30_000);
