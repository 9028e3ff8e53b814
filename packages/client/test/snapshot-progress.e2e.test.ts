// End to end: a bootstrapping client reports snapshot progress in rows against the total the
// coordinator announces in the snapshot header, so a progress bar is right from the first report.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SnapshotProgress } from '@syncord/client';
import { Harness, NOTES } from './harness.js';
import { within } from './helpers.js';

describe('snapshot progress in rows', () => {
  let h: Harness;
  beforeEach(() => {
    h = new Harness();
  });
  afterEach(() => h.dispose());

  it('reports rowsTotal = N from the first progress event and rowsReceived reaching N', async () => {
    const coord = await h.coordinator();
    const a = h.memoryDb();
    a.declareTable('notes', NOTES);
    a.declareTable('tags', { columns: { name: 'text' }, primaryKey: ['name'] });
    // 2 500 notes of three cells: several 1000-entry chunks, rows cut across chunk boundaries.
    a.transaction((tx) => {
      for (let id = 0; id < 2500; id++) tx.put('notes', { id, title: `t${id}`, done: id % 2 });
    });
    a.put('tags', { name: 'urgent' });
    a.delete('notes', 7); // a tombstone, not a row
    await h.connectAll(coord.url, 'db', h.client(a));
    const rows = 2500 - 1 + 1;

    const b = h.memoryDb();
    const cb = h.client(b);
    const progress: SnapshotProgress[] = [];
    cb.on('status', (s) => {
      if (s.state === 'bootstrapping') progress.push(s.progress);
    });
    await cb.connect(coord.url, 'db');
    await within(cb.whenSynced(), 10_000, 'B synced');

    expect(h.opsOf(b)).toContain('get_snapshot');
    expect(progress.length).toBeGreaterThan(2);
    expect(progress[0]).toMatchObject({ rowsReceived: 0, rowsTotal: rows });
    expect(progress.every((p) => p.rowsTotal === rows)).toBe(true);
    const received = progress.map((p) => p.rowsReceived);
    expect(received).toEqual([...received].sort((x, y) => x - y));
    expect(received.at(-1)).toBe(rows);
    expect(b.list('notes')).toHaveLength(2499);
  });
});
