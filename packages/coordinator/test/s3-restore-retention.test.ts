// Item 7 against a real S3 server: a database restored from a JSON snapshot still refuses a
// watermark that the original could no longer serve gap-free (a delete it pruned past the
// retention horizon), instead of handing that client a delta that keeps the deleted row.
import { rmSync } from 'node:fs';
import { encodeSiteId, type SiteId } from '@syncord/core';
import { describe, expect, it } from 'vitest';
import { deleteRow, newSiteId, wire, writeRow } from './support/change-sets.js';
import { s3Settings, useS3Server } from './support/s3-objects.js';
import type { S3TestServer } from './support/s3-server.js';
import { startTestServer, tempDir, type TestServer } from './support/test-server.js';
import { TestClient, type ServerJson } from './support/ws-client.js';

let s3: S3TestServer;
useS3Server((server) => {
  s3 = server;
});

const ID = 'pruned:db';

async function join(server: TestServer, site: SiteId): Promise<TestClient> {
  const client = await TestClient.open(server.ws);
  expect(await client.handshake({ databaseId: ID, siteId: encodeSiteId(site) })).toMatchObject({
    type: 'handshake_ack',
  });
  return client;
}

async function ask(client: TestClient, sinceHLC?: string): Promise<ServerJson> {
  client.send({ type: 'get_changes', ...(sinceHLC ? { sinceHLC } : {}) });
  return client.next();
}

describe('restore from a JSON snapshot after retention pruned', () => {
  it('keeps refusing (RESYNC_REQUIRED) a watermark the original had to refuse', async () => {
    const dataDir = tempDir();
    const config = { s3: s3Settings(s3, 'retention/'), sync: { retentionHorizonMs: 100 } };
    const writer = newSiteId();
    const reader = newSiteId();
    let server = await startTestServer({ dataDir, config });
    let before: string;
    try {
      const w = await join(server, writer);
      const apply = async (changes: unknown[]): Promise<void> => {
        w.send({ type: 'apply_changes', requestId: 'a', changes });
        expect(await w.next('apply_result')).toMatchObject({ applied: 1 });
      };
      await apply([wire(writeRow(writer, 't', [1], { v: 'doomed' }, { counter: 1 }))]);
      const r = await join(server, reader);
      const first = (await ask(r)).changeSets as { hlc: string }[];
      before = first.at(-1)!.hlc; // the reader holds row 1
      await r.close();
      await apply([wire(deleteRow(writer, 't', [1], { counter: 2 }))]);
      await new Promise((resolve) => setTimeout(resolve, 150));
      expect(server.server.service.runMaintenance()).toBe(1); // the delete is pruned
      await apply([wire(writeRow(writer, 't', [2], { v: 'kept' }, { counter: 3 }))]);
      await server.server.service.durability!.snapshotNow(ID);
      expect(await server.server.service.durability!.flushAll(5000)).toBe(true);
      const again = await join(server, reader);
      expect(await ask(again, before)).toMatchObject({ type: 'error', code: 'RESYNC_REQUIRED' });
      await again.close();
      await w.close();
    } finally {
      await server.stop();
    }
    rmSync(dataDir, { recursive: true, force: true }); // the disk is lost

    server = await startTestServer({ dataDir, config });
    try {
      const back = await join(server, reader);
      expect(await ask(back, before)).toMatchObject({ type: 'error', code: 'RESYNC_REQUIRED' });
      await back.close();
      // A new client is served, and after that it catches up by delta as usual.
      const fresh = await join(server, newSiteId());
      const all = (await ask(fresh)).changeSets as { changes: { type: string; pk: unknown[] }[] }[];
      // Row 1 is not live (batches inside the replay margin may bring its delete back, too).
      const live = all.flatMap((cs) => cs.changes.filter((c) => c.type === 'column').map((c) => c.pk[0]));
      expect(live).toEqual([2]);
      await fresh.close();
    } finally {
      await server.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
