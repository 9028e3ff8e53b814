// Limits of issue 4 item 3 that need a live server: connections overall and per database,
// concurrent snapshot streams, the handshake timeout and the per-connection message rate; and the
// open databases (issue 10 item 9). Each refusal is clear, non-fatal where the client should
// retry, and counted.
import { encodeSiteId, newSiteId } from '@syncord/core';
import { HANDSHAKE_TIMEOUT_CLOSE, RATE_EXCEEDED_CLOSE } from '@syncord/coordinator';
import { describe, expect, it } from 'vitest';
import { HeldSnapshots } from './support/held-snapshots.js';
import { metricValue } from './support/metric-value.js';
import { startTestServer, type TestServer } from './support/test-server.js';
import { perTestServers } from './support/per-test-servers.js';
import { TestClient } from './support/ws-client.js';

let srv: TestServer | undefined;
const { clients, adopt } = perTestServers('terminate');

async function open(): Promise<TestClient> {
  const c = await TestClient.open(srv!.ws);
  clients.push(c);
  return c;
}

const hello = (databaseId: string) => ({ databaseId, siteId: encodeSiteId(newSiteId()) });
const limitCount = (limit: string) => metricValue(srv!.server.service.metrics.limitRejectionsTotal, { limit });

describe('connection limits', () => {
  it('refuses a connection past maxConnections with TOO_MANY_CONNECTIONS (non-fatal) and 1013', async () => {
    srv = adopt(await startTestServer({ config: { limits: { maxConnections: 2 } } }));
    const [a] = [await open(), await open()];
    const third = await open();
    expect(await third.next()).toMatchObject({ type: 'error', code: 'TOO_MANY_CONNECTIONS', fatal: false });
    expect(await third.closed).toEqual({ code: 1013, reason: 'Try again later' });
    expect(await limitCount('maxConnections')).toBe(1);

    await a!.close();
    await expect
      .poll(() => srv!.server.service.metrics.wsConnectionsActive.get().then((m) => m.values[0]?.value))
      .toBe(1);
    const again = await open();
    expect((await again.handshake(hello('db'))).type).toBe('handshake_ack');
  });

  it('refuses a session past maxConnectionsPerDatabase at handshake, before any hook, and frees slots', async () => {
    const connects: string[] = [];
    let rejectNext = true;
    srv = adopt(
      await startTestServer({
        config: { limits: { maxConnectionsPerDatabase: 1 } },
        hooks: {
          onClientConnect: (_client, _socket, databaseId) => {
            connects.push(databaseId);
            const accept = !rejectNext;
            rejectNext = false;
            return accept;
          },
        },
      }),
    );
    // A handshake that fails after taking the slot gives it back.
    expect(await (await open()).handshake(hello('one'))).toMatchObject({ code: 'AUTH_FAILED' });
    const first = await open();
    expect((await first.handshake(hello('one'))).type).toBe('handshake_ack');
    const second = await open();
    expect(await second.handshake(hello('one'))).toMatchObject({
      type: 'error',
      code: 'TOO_MANY_CONNECTIONS',
      fatal: false,
      message: expect.stringMatching(/maxConnectionsPerDatabase 1/),
    });
    expect(await second.closed).toEqual({ code: 1013, reason: 'Try again later' });
    expect(connects).toEqual(['one', 'one']);
    expect(srv.server.service.stores.refCount('one')).toBe(1);
    expect((await (await open()).handshake(hello('two'))).type).toBe('handshake_ack');
    expect(await limitCount('maxConnectionsPerDatabase')).toBe(1);

    await first.close();
    const third = await open();
    expect((await third.handshake(hello('one'))).type).toBe('handshake_ack');
  });
});

describe('open databases', () => {
  const read = (databaseId: string) =>
    fetch(`${srv!.http}/${databaseId}/changes`, { headers: { 'x-site-id': encodeSiteId(newSiteId()) } });

  it('refuses a third database while two are in use under maxOpenStores 2 (non-fatal, 1013, HTTP 503)', async () => {
    srv = adopt(await startTestServer({ config: { stores: { maxOpenStores: 2 } } }));
    const { stores } = srv.server.service;
    const one = await open();
    expect((await one.handshake(hello('one'))).type).toBe('handshake_ack');
    expect((await (await open()).handshake(hello('two'))).type).toBe('handshake_ack');

    const three = await open();
    expect(await three.handshake(hello('three'))).toMatchObject({
      type: 'error',
      code: 'STORAGE_UNAVAILABLE',
      fatal: false,
      message: expect.stringMatching(/maxOpenStores 2/),
    });
    expect(await three.closed).toEqual({ code: 1013, reason: 'Try again later' });
    const http = await read('three');
    expect(http.status).toBe(503);
    expect(await http.json()).toMatchObject({ ok: false, error: { code: 'STORAGE_UNAVAILABLE' } });
    expect(await limitCount('maxOpenStores')).toBe(2);
    expect(stores.openDatabaseIds().sort()).toEqual(['one', 'two']);

    await one.close();
    await expect.poll(() => stores.refCount('one')).toBe(0);
    // The unreferenced 'one' is closed to make room (least recently used first).
    expect((await (await open()).handshake(hello('three'))).type).toBe('handshake_ack');
    expect(stores.openDatabaseIds().sort()).toEqual(['three', 'two']);
    expect((await read('three')).status).toBe(200);
  });
});

describe('concurrent snapshots', () => {
  /** Databases named `held…` pause every snapshot after its header until `held.release()`. */
  const held = new HeldSnapshots((databaseId) => databaseId.startsWith('held'));

  it('answers a stream past maxConcurrentSnapshots with SNAPSHOT_ERROR (WS) and 503 (HTTP)', async () => {
    srv = adopt(await startTestServer({ config: { limits: { maxConcurrentSnapshots: 1 } }, openReplica: held.open }));
    const { metrics } = srv.server.service;
    const holder = await open();
    await holder.handshake(hello('held'));
    holder.send({ type: 'get_snapshot' });
    expect((await holder.next('snapshot_chunk')).chunk).toMatchObject({ type: 'header' });
    expect(await metricValue(metrics.snapshotStreamsActive)).toBe(1);

    const other = await open();
    await other.handshake(hello('db'));
    other.send({ type: 'get_snapshot' });
    expect(await other.next()).toMatchObject({
      type: 'error',
      code: 'SNAPSHOT_ERROR',
      fatal: false,
      message: expect.stringMatching(/Too many concurrent snapshots/),
    });
    const http = await fetch(`${srv.http}/db/snapshot`, { headers: { 'x-site-id': encodeSiteId(newSiteId()) } });
    expect(http.status).toBe(503);
    expect(await http.json()).toMatchObject({ ok: false, error: { code: 'SNAPSHOT_FAILED' } });
    expect(await limitCount('maxConcurrentSnapshots')).toBe(2);

    held.release();
    await holder.waitFor('snapshot_complete');
    await expect.poll(() => metricValue(metrics.snapshotStreamsActive)).toBe(0);
    other.send({ type: 'get_snapshot' });
    expect(await other.waitFor('snapshot_complete')).toEqual({ type: 'snapshot_complete' });
  });
});

describe('handshake timeout', () => {
  it('closes a socket that never handshakes with 4008, and leaves a handshaken one alone', async () => {
    srv = adopt(await startTestServer({ config: { limits: { handshakeTimeoutMs: 200 } } }));
    const idle = await open();
    const talker = await open();
    await talker.handshake(hello('db'));
    expect(await idle.closed).toEqual({ code: HANDSHAKE_TIMEOUT_CLOSE.code, reason: HANDSHAKE_TIMEOUT_CLOSE.reason });
    expect(await limitCount('handshakeTimeoutMs')).toBe(1);
    expect(await talker.drain()).toEqual([]);
    expect(srv.server.service.status().connectedClients).toBe(1);
  });
});

describe('message rate', () => {
  it('drops messages past the burst with RATE_LIMITED (non-fatal) and closes a flood with 1008', async () => {
    srv = adopt(await startTestServer({ config: { limits: { messageRatePerSecond: 1, messageBurst: 5 } } }));
    const bursty = await open();
    for (let i = 0; i < 8; i++) bursty.send({ type: 'ping' });
    const replies = [];
    for (let i = 0; i < 8; i++) replies.push(await bursty.next());
    const pongs = replies.filter((m) => m.type === 'pong').length;
    const limited = replies.filter((m) => m.type === 'error');
    // One token may refill while the burst is read, never more on any sane machine.
    expect(pongs).toBeGreaterThanOrEqual(5);
    expect(pongs + limited.length).toBe(8);
    expect(limited.length).toBeGreaterThanOrEqual(2);
    for (const m of limited) expect(m).toMatchObject({ code: 'RATE_LIMITED', fatal: false });
    expect(bursty.socket.readyState).toBe(bursty.socket.OPEN);

    const flood = await open();
    for (let i = 0; i < 50; i++) flood.send({ type: 'ping' });
    expect(await flood.closed).toEqual({ code: RATE_EXCEEDED_CLOSE.code, reason: RATE_EXCEEDED_CLOSE.reason });
    expect(await limitCount('messageRatePerSecond')).toBeGreaterThanOrEqual(limited.length + 5);
  });
});
