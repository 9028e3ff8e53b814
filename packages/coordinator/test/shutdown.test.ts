// Graceful shutdown (DESIGN item 9): readyz turns 503, in-flight applies finish and are
// answered, sockets close with 1001, snapshot streams end, stores close; acknowledged means stored.
import { readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { encodeSiteId, newSiteId, type Replica } from '@syncord/core';
import { openSqliteReplica } from '@syncord/core/sqlite';
import { createCoordinatorServer } from '@syncord/coordinator';
import { describe, expect, it } from 'vitest';
import { wire, writeRow } from './support/change-sets.js';
import { HeldSnapshots } from './support/held-snapshots.js';
import { metricValue } from './support/metric-value.js';
import { startTestServer, tempDir, testConfig } from './support/test-server.js';
import { TestClient } from './support/ws-client.js';

describe('graceful stop', () => {
  it('finishes an apply in flight, answers it, closes with 1001, and the write is on disk', async () => {
    const dataDir = tempDir();
    let entered!: () => void;
    const inHook = new Promise<void>((resolve) => (entered = resolve));
    let proceed!: () => void;
    const gate = new Promise<void>((resolve) => (proceed = resolve));
    const srv = await startTestServer({
      dataDir,
      hooks: {
        onBeforeApplyChanges: async (_client, changes) => {
          entered();
          await gate;
          return { approved: changes, rejected: [] };
        },
      },
    });
    try {
      const site = newSiteId();
      const c = await TestClient.open(srv.ws);
      expect((await c.handshake({ databaseId: 'acme:notes', siteId: encodeSiteId(site) })).type).toBe('handshake_ack');
      const cs = wire(writeRow(site, 'notes', [1], { title: 'keep me' }));
      c.send({ type: 'apply_changes', requestId: 'apply-1', changes: [cs] });
      await inHook;

      const stopping = srv.server.stop();
      const notReady = await fetch(`${srv.origin}/readyz`);
      expect(notReady.status).toBe(503);
      expect(await notReady.json()).toMatchObject({ error: { code: 'NOT_READY', reasons: ['shutting down'] } });
      expect((await fetch(`${srv.origin}/healthz`)).status).toBe(200);
      const late = await TestClient.open(srv.ws);
      expect(await late.closed).toEqual({ code: 1001, reason: 'Server shutting down' });
      const busy = await fetch(`${srv.http}/acme:notes/changes`, { headers: { 'x-site-id': encodeSiteId(site) } });
      expect(busy.status).toBe(503);

      proceed();
      expect(await c.next()).toMatchObject({ type: 'apply_result', requestId: 'apply-1', applied: 1 });
      expect(await c.closed).toEqual({ code: 1001, reason: 'Server shutting down' });
      await stopping;
      expect(srv.server.address()).toBeUndefined();
      expect(srv.server.service.stores.openCount).toBe(0);
      await srv.server.stop(); // idempotent

      // Acknowledged means stored: read the file the server wrote.
      const files = readdirSync(dataDir).filter((f) => f.endsWith('.sqlite'));
      expect(files).toHaveLength(1);
      const replica = openSqliteReplica(path.join(dataDir, files[0]!));
      try {
        expect(replica.readRow('main', 'notes', [1])?.get('title')).toBe('keep me');
      } finally {
        replica.close();
      }
    } finally {
      await srv.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('ends a snapshot stream still reading at shutdown before its database closes', async () => {
    // The database's snapshot pauses after its header until released; its close notes whether
    // the stream was still inside the engine's read.
    const held = new HeldSnapshots();
    let closedWhileReading: boolean | undefined;
    const openHeld = (file: string, databaseId: string): Replica => {
      const replica = held.open(file, databaseId);
      const close = replica.close.bind(replica);
      replica.close = () => {
        closedWhileReading ??= held.reading;
        close();
      };
      return replica;
    };
    const srv = await startTestServer({ openReplica: openHeld, shutdownGraceMs: 100 });
    try {
      const site = encodeSiteId(newSiteId());
      const res = await fetch(`${srv.http}/db/snapshot`, { headers: { 'x-site-id': site } });
      expect(res.status).toBe(200);
      const body = res.body!.getReader();
      await body.read(); // the header line
      await expect.poll(() => held.reading).toBe(true);

      const stopping = srv.server.stop();
      // Past the grace the response is cut; then give shutdown every chance to close the store.
      await expect(
        (async () => {
          for (;;) if ((await body.read()).done) return;
        })(),
      ).rejects.toThrow();
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(closedWhileReading).toBeUndefined();
      expect(srv.server.service.stores.isOpen('db')).toBe(true);

      held.release();
      await stopping;
      expect(closedWhileReading).toBe(false);
      expect(srv.server.service.stores.openCount).toBe(0);
      expect(await metricValue(srv.server.service.metrics.snapshotStreamsActive)).toBe(0);
    } finally {
      held.release();
      await srv.stop();
    }
  });

  it('stops a server that never started, and refuses to start a stopped one', async () => {
    const dataDir = tempDir();
    const server = createCoordinatorServer({ config: testConfig(dataDir) });
    await server.stop();
    await expect(server.start()).rejects.toThrow(/stopped/);
    rmSync(dataDir, { recursive: true, force: true });
  });
});
