// End to end against a real coordinator on 127.0.0.1: live sync, offline edits that converge,
// catch-up longer than one batch, and bootstrap by snapshot.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bytesEqual } from '@syncord/core';
import type { SyncStatus } from '@syncord/client';
import { dump, Harness, NOTES } from './harness.js';
import { waitFor, within } from './helpers.js';

describe('SyncClient against the coordinator', () => {
  let h: Harness;
  beforeEach(() => {
    h = new Harness();
  });
  afterEach(() => h.dispose());

  it('pushes local writes and applies live broadcasts: concurrent edits converge', async () => {
    const coord = await h.coordinator();
    const a = h.memoryDb();
    const b = h.memoryDb();
    a.declareTable('notes', NOTES);
    b.declareTable('notes', NOTES);
    const ca = h.client(a);
    const cb = h.client(b);
    await h.connectAll(coord.url, 'acme:notes', ca, cb);

    // Both write the same rows at the same time, plus rows of their own.
    for (let i = 0; i < 20; i++) {
      a.put('notes', { id: i % 5, title: `a${i}` });
      b.put('notes', { id: i % 5, title: `b${i}`, done: i });
      a.put('notes', { id: 100 + i, title: 'from a' });
      b.put('notes', { id: 200 + i, title: 'from b' });
    }
    b.delete('notes', 4);
    await waitFor(() => dump(a) === dump(b) && a.list('notes').length === 44, { what: 'A and B to converge' });
    expect(a.get('notes', 4)).toBeUndefined();
    expect(a.get('notes', 3)).toMatchObject({ done: 18 });
    expect(h.errors).toEqual([]);
  });

  it('writes made offline are pushed on reconnect, and two offline editors converge', async () => {
    const coord = await h.coordinator();
    const a = h.memoryDb();
    const b = h.memoryDb();
    a.declareTable('notes', NOTES);
    const ca = h.client(a);
    const cb = h.client(b);
    await ca.connect(coord.url, 'db');
    for (let id = 1; id <= 3; id++) a.put('notes', { id, title: 'v0' });
    await ca.whenSynced();
    await cb.connect(coord.url, 'db');
    await waitFor(() => b.list('notes').length === 3, { what: 'B to get the rows' });
    b.declareTable('notes', NOTES);
    await Promise.all([ca.disconnect(), cb.disconnect()]);

    // Offline on both sides: the same cell, a delete racing an update, and new rows.
    a.put('notes', { id: 1, title: 'a offline' });
    a.delete('notes', 2);
    a.put('notes', { id: 10, title: 'new on a' });
    b.put('notes', { id: 2, title: 'b edits a deleted row' });
    b.put('notes', { id: 1, title: 'b offline, later' });
    b.put('notes', { id: 20, title: 'new on b' });

    await ca.connect(coord.url, 'db');
    await cb.connect(coord.url, 'db');
    await waitFor(() => dump(a) === dump(b) && ca.status.state === 'synced' && cb.status.state === 'synced', {
      what: 'convergence after reconnect',
    });
    expect(a.get('notes', 1)).toMatchObject({ title: 'b offline, later' }); // later HLC wins
    expect(a.get('notes', 2)).toBeUndefined(); // a delete beats cell writes
    expect(
      a
        .list('notes')
        .map((r) => r['id'])
        .sort(),
    ).toEqual([1, 10, 20, 3]);
    expect(h.errors).toEqual([]);
  });

  it('an offline client catches up more changes than one batch holds with one get_changes, read as pages', async () => {
    const coord = await h.coordinator({ sync: { batchSize: 5 } });
    const a = h.memoryDb();
    const b = h.memoryDb();
    a.declareTable('notes', NOTES);
    const ca = h.client(a);
    const cb = h.client(b);
    await h.connectAll(coord.url, 'db', ca, cb);
    await cb.disconnect();
    for (let id = 0; id < 60; id++) a.put('notes', { id, title: `t${id}` });
    await ca.whenSynced();
    const before = h.opsOf(b).length;

    await cb.connect(coord.url, 'db');
    await within(cb.whenSynced(), 5000, 'B synced');
    expect(b.list('notes')).toHaveLength(60);
    expect(dump(b)).toBe(dump(a));
    const catchUps = h
      .opsOf(b)
      .slice(before)
      .filter((op) => op.startsWith('get_changes'));
    // 60 one-row transactions at 5 per page: the server streams every page for one request, and
    // the client, seeing `more`, does not ask again.
    expect(catchUps).toEqual(['get_changes@since']);
  });

  it('a new client bootstraps by snapshot, then catches up from the snapshot and stays live', async () => {
    const c = h.memoryDb();
    let wrote = 0;
    const hooks = h.hooks();
    const coord = await h.coordinator({
      hooks: {
        ...hooks,
        onAuthorize: (client, op, ctx) => {
          // C's get_snapshot is on its way and the header is not: a write now comes before the clear.
          if (op.type === 'get_snapshot' && bytesEqual(client.siteId, c.siteId) && wrote === 0) {
            c.declareTable('notes', NOTES);
            c.put('notes', { id: 9001, title: 'written before the header' });
            wrote++;
          }
          return hooks.onAuthorize!(client, op, ctx);
        },
      },
    });
    const a = h.memoryDb();
    a.declareTable('notes', NOTES);
    a.declareTable('tags', { columns: { name: 'text' }, primaryKey: ['name'] });
    const ca = h.client(a);
    await ca.connect(coord.url, 'db');
    for (let id = 0; id < 50; id++) a.put('notes', { id, title: `t${id}` });
    a.put('tags', { name: 'urgent' });
    a.delete('notes', 7);
    await ca.whenSynced();

    const cc = h.client(c);
    const states: SyncStatus[] = [];
    cc.on('status', (s) => {
      states.push(s);
      if (s.state !== 'bootstrapping') return;
      // A write while the snapshot streams, after its header cleared the replica.
      if (wrote === 1 && s.progress.tablesProcessed === 1) {
        c.put('notes', { id: 9002, title: 'written mid-stream' });
        wrote++;
      }
    });
    await cc.connect(coord.url, 'db');
    await within(cc.whenSynced(), 5000, 'C synced');
    expect(wrote).toBe(2);
    await waitFor(() => a.get('notes', 9001) !== undefined && a.get('notes', 9002) !== undefined, {
      what: 'the writes made during the bootstrap to reach A',
    });
    expect(h.opsOf(c).filter((op) => op !== 'apply_changes')).toEqual(['get_snapshot', 'get_changes@since']);
    expect(states.map((s) => s.state)).toContain('bootstrapping');
    const last = states.filter((s) => s.state === 'bootstrapping').at(-1);
    expect(last).toMatchObject({ progress: { tablesProcessed: 2, totalTables: 2 } });
    expect(dump(c)).toBe(dump(a));
    expect(c.list('tags')).toEqual([{ name: 'urgent' }]); // an undeclared table's rows are kept
    expect((await c.migrations()).map((m) => m.table).sort()).toEqual(['notes', 'tags']);

    a.put('notes', { id: 7000, title: 'live' });
    await waitFor(() => c.get('notes', 7000) !== undefined, { what: 'the live broadcast' });
  });
});
