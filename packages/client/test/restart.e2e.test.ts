// End to end across restarts: the coordinator (the syncord CLI as a child process) restarts while
// clients sync, and a client process restarts from its SQLite file.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { transactionIdOf } from '@syncord/core';
import type { SyncStatus } from '@syncord/client';
import { dump, Harness, NOTES } from './harness.js';
import { freePort, startCli, stopCli, waitFor, within } from './helpers.js';

const CLI = fileURLToPath(new URL('../../coordinator/dist/cli/main.js', import.meta.url));

describe('restarts', () => {
  let h: Harness;
  beforeAll(() => {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` before these tests`);
  });
  beforeEach(() => {
    h = new Harness();
  });
  afterEach(() => h.dispose());

  it('the server restarts mid-sync and clients reconnect on their own and converge', async () => {
    const port = await freePort();
    const dataDir = join(h.dir.path, 'server');
    let server = await startCli(dataDir, port);
    h.defer(() => stopCli(server));
    const url = `ws://127.0.0.1:${port}/sync/ws`;
    const a = h.sqliteDb('a');
    const b = h.memoryDb();
    a.declareTable('notes', NOTES);
    const ca = h.client(a);
    const cb = h.client(b);
    const bStates: SyncStatus['state'][] = [];
    cb.on('status', (s) => bStates.push(s.state));
    await ca.connect(url, 'team');
    await cb.connect(url, 'team');
    await Promise.all([ca.whenSynced(), cb.whenSynced()]);

    // Writes in flight when the server goes down, more while it is down.
    for (let id = 0; id < 30; id++) a.put('notes', { id, title: `before ${id}` });
    await stopCli(server);
    for (let id = 30; id < 40; id++) a.put('notes', { id, title: `while down ${id}` });
    b.declareTable('notes', NOTES);
    b.put('notes', { id: 100, title: 'b while down' });
    await waitFor(() => ca.status.state === 'offline' && cb.status.state === 'offline', { what: 'both offline' });

    server = await startCli(dataDir, port);
    await waitFor(() => dump(a) === dump(b) && a.list('notes').length === 41, {
      timeoutMs: 8000,
      what: 'convergence after the restart',
    });
    await within(Promise.all([ca.whenSynced(), cb.whenSynced()]), 5000, 'both synced');
    expect(bStates).toContain('offline');
    expect(bStates.at(-1)).toBe('synced');
  });

  it('a client process restarts from its SQLite file and resumes without re-pushing its history', async () => {
    const coord = await h.coordinator();
    const a = h.sqliteDb('a');
    a.declareTable('notes', NOTES);
    const ca = h.client(a);
    await ca.connect(coord.url, 'db');
    for (let id = 0; id < 20; id++) a.put('notes', { id, title: `t${id}` });
    await ca.whenSynced();
    // Offline writes right before the "process" ends are pending pushes in the file.
    await ca.disconnect();
    a.put('notes', { id: 20, title: 'pending when closed' });
    const site = a.siteId;
    a.close();

    // Meanwhile someone else writes.
    const other = h.memoryDb();
    const co = h.client(other);
    await co.connect(coord.url, 'db');
    other.declareTable('notes', NOTES);
    other.put('notes', { id: 500, title: 'while a was closed' });
    await co.whenSynced();

    const reopened = h.sqliteDb('a');
    expect(reopened.siteId).toEqual(site);
    const opsBefore = h.opsOf(reopened).length;
    const cr = h.client(reopened);
    await cr.connect(coord.url, 'db');
    reopened.put('notes', { id: 21, title: 'after restart' });
    await within(cr.whenSynced(), 5000, 'reopened client synced');
    await waitFor(() => reopened.get('notes', 500) !== undefined && other.get('notes', 21) !== undefined, {
      what: 'both ways',
    });

    // No snapshot and no catch-up from zero: it resumed from its persisted watermark...
    const reads = h
      .opsOf(reopened)
      .slice(opsBefore)
      .filter((op) => op !== 'apply_changes');
    expect(reads.length).toBeGreaterThan(0);
    expect(reads.every((op) => op === 'get_changes@since')).toBe(true);
    // ...and every transaction of its history reached the server exactly once.
    const ids = h.pushedBy(reopened).map((cs) => transactionIdOf(cs.hlc));
    expect(ids).toHaveLength(23); // create_table + 20 rows + the pending one + the new one
    expect(new Set(ids).size).toBe(ids.length);
    expect(dump(reopened)).toBe(dump(other));
  });
});
