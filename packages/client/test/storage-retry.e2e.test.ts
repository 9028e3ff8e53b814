// A database the server cannot open right now (here: stores.maxOpenStores reached) is refused
// with the non-fatal STORAGE_UNAVAILABLE, so the SDK keeps reconnecting with backoff and syncs once
// there is room, where the fatal AUTH_FAILED would have stopped it for good.
import { join } from 'node:path';
import { createCoordinatorServer, DEFAULT_CONFIG } from '@syncord/coordinator';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { Harness } from './harness.js';
import { coordinatorConfig, waitFor, within } from './helpers.js';

let h: Harness;
beforeEach(() => {
  h = new Harness();
});
afterEach(() => h.dispose());

it('keeps retrying through STORAGE_UNAVAILABLE and syncs once the server has room', async () => {
  const config = {
    ...coordinatorConfig({ dataDir: join(h.dir.path, 'server') }),
    stores: { ...DEFAULT_CONFIG.stores, maxOpenStores: 1 },
  };
  const server = createCoordinatorServer({ config, shutdownGraceMs: 1000 });
  const { port } = await server.start();
  h.defer(() => server.stop());
  const url = `ws://127.0.0.1:${port}/sync/ws`;

  // Another client holds the one database the server may have open.
  const holder = h.client(h.memoryDb());
  await within(holder.connect(url, 'other'), 5000, 'the holder connected');

  const client = h.client(h.memoryDb());
  const connected = client.connect(url, 'db');
  const refusals = () => h.errors.filter((e) => e.code === 'STORAGE_UNAVAILABLE');
  await waitFor(() => refusals().length >= 2, { what: 'two refused attempts' });
  expect(refusals().every((e) => !e.fatal)).toBe(true);
  expect(client.status.state).not.toBe('error');

  await holder.disconnect();
  await within(connected, 5000, 'connected once the database could open');
  await within(client.whenSynced(), 5000, 'synced');
  expect(server.service.stores.openDatabaseIds()).toEqual(['db']);
});
