// What the offline status says, against real sockets on 127.0.0.1: a closed port is `refused`
// and retried; an HTTP 404 on the upgrade (a wrong path) fails connect() at once.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SyncError, type SyncStatus } from '@syncord/client';
import { Harness } from './harness.js';
import { freePort, waitFor, within } from './helpers.js';

describe('offline cause', () => {
  let h: Harness;
  beforeEach(() => {
    h = new Harness();
  });
  afterEach(() => h.dispose());

  it('a closed port leaves the client offline with cause refused, retrying, and whenSynced times out', async () => {
    const port = await freePort();
    const client = h.client(h.memoryDb());
    const statuses: SyncStatus[] = [];
    client.on('status', (s) => statuses.push(s));
    const connecting = client.connect(`ws://127.0.0.1:${port}/sync/ws`, 'db');
    connecting.catch(() => {});
    await waitFor(() => statuses.filter((s) => s.state === 'offline').length >= 2, { what: 'two failed attempts' });
    const offline = statuses.find((s) => s.state === 'offline');
    expect(offline).toMatchObject({ state: 'offline', retryInMs: expect.any(Number), cause: { kind: 'refused' } });
    const timedOut = await client.whenSynced({ timeoutMs: 20 }).catch((e: unknown) => e);
    expect(timedOut).toBeInstanceOf(SyncError);
    expect(timedOut).toMatchObject({ code: 'TIMEOUT' });
    await client.disconnect();
    await expect(connecting).rejects.toMatchObject({ code: 'DISCONNECTED' });
  });

  it('an HTTP 404 on the upgrade (wrong path) fails connect() at once with a clear fatal error', async () => {
    const coord = await h.coordinator();
    const client = h.client(h.memoryDb());
    const statuses: SyncStatus[] = [];
    client.on('status', (s) => statuses.push(s));
    const wrong = `ws://127.0.0.1:${coord.port}/sync/nope`;
    const err = await within(
      client.connect(wrong, 'db').catch((e: unknown) => e),
      10_000,
      'connect to a wrong path to fail',
    );
    expect(err).toBeInstanceOf(SyncError);
    expect(err).toMatchObject({ code: 'UPGRADE_REJECTED', fatal: true });
    expect((err as Error).message).toContain('HTTP 404');
    expect((err as Error).message).toContain(wrong);
    expect(client.status).toMatchObject({ state: 'error', error: { code: 'UPGRADE_REJECTED' } });
    // One attempt, no retries.
    expect(statuses.filter((s) => s.state === 'connecting')).toHaveLength(1);
    expect(statuses.some((s) => s.state === 'offline')).toBe(false);
    await expect(client.whenSynced()).rejects.toMatchObject({ code: 'UPGRADE_REJECTED' });
  });

  it('a server that drops an open connection leaves the cause closed', async () => {
    const coord = await h.coordinator();
    const client = h.client(h.memoryDb());
    await client.connect(coord.url, 'db');
    await client.whenSynced();
    const statuses: SyncStatus[] = [];
    client.on('status', (s) => statuses.push(s));
    await coord.stop();
    await waitFor(() => statuses.some((s) => s.state === 'offline'), { what: 'the client to go offline' });
    const offline = statuses.find((s) => s.state === 'offline');
    expect(offline?.state === 'offline' && offline.cause?.kind).toMatch(/closed|error/);
  });
});
