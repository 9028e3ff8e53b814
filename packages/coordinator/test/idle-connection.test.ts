// An idle WebSocket connection keeps its socket and its session, not the HTTP exchange that opened
// it (BENCHMARKS.md "Speed round 2: idle connections"): after the handshake the upgrade request is
// garbage, and the connection, whose socket listeners find their session through a weak map, still
// answers and still receives broadcasts after a full collection.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { encodeSiteId, newSiteId } from '@syncord/core';
import type { ClientIdentity } from '@syncord/coordinator';
import { expect, it } from 'vitest';
import { wire, writeRow } from './support/change-sets.js';
import { perTestServers } from './support/per-test-servers.js';
import { startTestServer } from './support/test-server.js';
import { TestClient } from './support/ws-client.js';

const { clients, adopt } = perTestServers();

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Full collections, with turns of the event loop between them for finalizers and pending work. */
async function collect(): Promise<void> {
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((resolve) => setImmediate(resolve));
  }
}

it('an idle connection lets its upgrade request go and is still served after a full GC', async () => {
  const requests: WeakRef<object>[] = [];
  const srv = adopt(
    await startTestServer({
      config: { auth: { mode: 'custom' } },
      hooks: {
        onAuthenticate: (ctx): ClientIdentity => {
          const request = ctx.request as { raw: object };
          requests.push(new WeakRef(request), new WeakRef(request.raw));
          return { siteId: ctx.siteId ?? newSiteId() };
        },
      },
    }),
  );
  const idle = await TestClient.open(srv.ws);
  const writer = await TestClient.open(srv.ws);
  clients.push(idle, writer);
  const writerSite = newSiteId();
  for (const [c, site] of [
    [idle, newSiteId()],
    [writer, writerSite],
  ] as const) {
    expect(await c.handshake({ databaseId: 'db', siteId: encodeSiteId(site) })).toMatchObject({
      type: 'handshake_ack',
    });
  }
  expect(requests).toHaveLength(4);

  await collect();
  expect(requests.map((ref) => ref.deref())).toEqual([undefined, undefined, undefined, undefined]);

  expect(await idle.drain()).toEqual([]);
  const sent = wire(writeRow(writerSite, 'items', [1], { id: 1, name: 'tea' }));
  writer.send({ type: 'apply_changes', requestId: 'r1', changes: [sent] });
  expect(await writer.next('apply_result')).toMatchObject({ requestId: 'r1', applied: 2 });
  expect(await idle.next()).toEqual({ type: 'push_changes', changeSets: [sent] });
  expect(srv.server.service.status().connectedClients).toBe(2);
});
