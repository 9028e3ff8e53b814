// Reconnect policy over real sockets: the backoff grows while connections fail and resets only
// after a successful handshake; the platform's global WebSocket is preferred over `ws`.
import net from 'node:net';
import { WebSocket as WsSocket } from 'ws';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SyncStatus } from '@syncord/client';
import { Harness, NOTES } from './harness.js';
import { CuttableProxy, waitFor, within } from './helpers.js';

describe('reconnecting', () => {
  let h: Harness;
  beforeEach(() => {
    h = new Harness();
  });
  afterEach(() => h.dispose());

  it('backs off while the server drops connections, and resets only after a handshake', async () => {
    // A server that accepts TCP connections and drops them at once, never handshaking.
    const dropper = net.createServer((s) => s.destroy());
    await new Promise<void>((r) => dropper.listen(0, '127.0.0.1', r));
    h.defer(() => new Promise((r) => dropper.close(r)));
    const dropperPort = (dropper.address() as net.AddressInfo).port;

    const db = h.memoryDb();
    // random() just below 1 makes every delay its ceiling minus one: the ceilings become visible.
    const client = h.client(db, { reconnect: { baseDelayMs: 10, maxDelayMs: 100, random: () => 0.9999 } });
    const retries: number[] = [];
    client.on('status', (s: SyncStatus) => {
      if (s.state === 'offline' && s.retryInMs !== undefined) retries.push(s.retryInMs);
    });
    void client.connect(`ws://127.0.0.1:${dropperPort}/sync/ws`, 'db').catch(() => {});
    await waitFor(() => retries.length >= 6, { what: 'six failed attempts' });
    await client.disconnect();
    expect(retries.slice(0, 6)).toEqual([9, 19, 39, 79, 99, 99]);

    // Against a real coordinator: after a handshake, a dropped connection retries at the base delay.
    const coord = await h.coordinator();
    const proxy = new CuttableProxy(coord.port);
    const url = await proxy.start();
    h.defer(() => proxy.stop());
    retries.length = 0;
    await client.connect(url, 'db');
    await within(client.whenSynced(), 5000, 'synced');
    proxy.cutAll();
    await waitFor(() => retries.length >= 1, { what: 'the retry after the drop' });
    expect(retries[0]).toBe(9);
    await within(client.whenSynced(), 5000, 'synced again');
  });

  it('notices a connection that went silent (heartbeat) and reconnects', async () => {
    const coord = await h.coordinator();
    const proxy = new CuttableProxy(coord.port);
    const url = await proxy.start();
    h.defer(() => proxy.stop());
    const a = h.memoryDb();
    const b = h.memoryDb();
    a.declareTable('notes', NOTES);
    const ca = h.client(a);
    const cb = h.client(b, { heartbeatMs: 50 });
    const bStates: string[] = [];
    cb.on('status', (s) => bStates.push(s.state));
    await ca.connect(coord.url, 'db');
    await cb.connect(url, 'db');
    await within(cb.whenSynced(), 5000, 'B synced');
    proxy.freezeAll(); // no FIN, no RST: only silence
    a.put('notes', { id: 1, title: 'sent while B was cut off' });
    await waitFor(() => b.get('notes', 1) !== undefined, { what: 'B to reconnect and catch up' });
    expect(bStates).toContain('offline');
    expect(h.errors).toEqual([]);
  });

  it('connect() right after an unawaited disconnect() waits for the old connection and works', async () => {
    const coord = await h.coordinator();
    const db = h.memoryDb();
    const client = h.client(db);
    await client.connect(coord.url, 'db');
    await within(client.whenSynced(), 5000, 'synced');
    void client.disconnect();
    await within(client.connect(coord.url, 'db'), 5000, 'connected again');
    await within(client.whenSynced(), 5000, 'synced again');
    expect(client.status.state).toBe('synced');
  });

  it('uses the global WebSocket when the platform has one', async () => {
    const coord = await h.coordinator();
    let constructed = 0;
    class CountingWebSocket extends WsSocket {
      constructor(url: string) {
        super(url);
        constructed++;
      }
    }
    const g = globalThis as { WebSocket?: unknown };
    const before = g.WebSocket;
    g.WebSocket = CountingWebSocket;
    h.defer(() => {
      if (before === undefined) delete g.WebSocket;
      else g.WebSocket = before;
    });
    const client = h.client(h.memoryDb());
    await client.connect(coord.url, 'db');
    await within(client.whenSynced(), 5000, 'synced');
    expect(constructed).toBe(1);
  });
});
