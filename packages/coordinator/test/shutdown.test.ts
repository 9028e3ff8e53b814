// Graceful shutdown (DESIGN item 9): readyz turns 503, in-flight applies finish and are
// answered, sockets close with 1001, stores close; acknowledged means stored.
import { readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { encodeSiteId, newSiteId } from '@syncord/core';
import { openSqliteReplica } from '@syncord/core/sqlite';
import { createCoordinatorServer } from '@syncord/coordinator';
import { describe, expect, it } from 'vitest';
import { wire, writeRow } from './support/change-sets.js';
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
      expect((await fetch(`${srv.origin}/readyz`)).status).toBe(503);
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

  it('stops a server that never started, and refuses to start a stopped one', async () => {
    const dataDir = tempDir();
    const server = createCoordinatorServer({ config: testConfig(dataDir) });
    await server.stop();
    await expect(server.start()).rejects.toThrow(/stopped/);
    rmSync(dataDir, { recursive: true, force: true });
  });
});
