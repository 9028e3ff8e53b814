// Liveness (issue 4 item 2): protocol pings find a socket whose peer stopped answering; it is
// terminated and its session released (store reference back to zero). A live client stays.
import { encodeSiteId, newSiteId } from '@syncord/core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { metricValue } from './support/metric-value.js';
import { startTestServer, type TestServer } from './support/test-server.js';
import { TestClient } from './support/ws-client.js';

let srv: TestServer;
beforeAll(async () => {
  srv = await startTestServer({ config: { sync: { pingIntervalMs: 250 } } });
});
afterAll(() => srv.stop());

it('terminates a socket that misses a pong and releases its session and store', async () => {
  const { service } = srv.server;
  const live = await TestClient.open(srv.ws);
  await live.handshake({ databaseId: 'alive', siteId: encodeSiteId(newSiteId()) });
  let pings = 0;
  live.socket.on('ping', () => pings++);

  const muteClient = await TestClient.open(srv.ws, { autoPong: false });
  muteClient.socket.on('error', () => {});
  expect((await muteClient.handshake({ databaseId: 'dead', siteId: encodeSiteId(newSiteId()) })).type).toBe(
    'handshake_ack',
  );
  expect(service.stores.refCount('dead')).toBe(1);

  // Terminated, not closed: no close frame reaches the client (1006).
  expect((await muteClient.closed).code).toBe(1006);
  await expect.poll(() => service.stores.refCount('dead')).toBe(0);
  expect(service.status().connectedClients).toBe(1);
  expect(await metricValue(service.metrics.pingTimeoutsTotal)).toBe(1);

  // The client that answers has been pinged more than once and is still served.
  await expect.poll(() => pings).toBeGreaterThan(1);
  expect(await live.drain()).toEqual([]);
  expect(service.stores.refCount('alive')).toBe(1);
  await live.close();
});
