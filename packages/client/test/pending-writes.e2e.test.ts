// End to end: SyncClient.pendingWrites, the count a UI shows as "saved locally" against
// "synced": local transactions the server has not acknowledged, with a `pending` event on change.
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RejectedChange } from '@syncord/client';
import { openSqliteDatabase } from '../src/sqlite.js';
import { Harness, NOTES } from './harness.js';
import { waitFor, within } from './helpers.js';

describe('SyncClient.pendingWrites', () => {
  let h: Harness;
  beforeEach(() => {
    h = new Harness();
  });
  afterEach(() => h.dispose());

  it('counts transactions written offline and drops as each acknowledgement arrives', async () => {
    const coord = await h.coordinator();
    const a = h.memoryDb();
    a.declareTable('notes', NOTES);
    // One transaction per push, so every acknowledgement is its own step.
    const ca = h.client(a, { batchSize: 1 });
    expect(ca.pendingWrites).toBe(1); // the table's declaration, never sent
    await h.connectAll(coord.url, 'db', ca);
    expect(ca.pendingWrites).toBe(0);

    await ca.disconnect();
    const seen: number[] = [];
    ca.on('pending', (n) => seen.push(n));
    a.put('notes', { id: 1, title: 'one' });
    a.put('notes', { id: 2, title: 'two' });
    a.transaction((tx) => {
      tx.put('notes', { id: 3, title: 'three' });
      tx.put('notes', { id: 4, title: 'four' });
    });
    expect(ca.pendingWrites).toBe(3);
    // A burst of commits is one recount and one event.
    await waitFor(() => seen.length > 0, { what: 'the pending event' });
    expect(seen).toEqual([3]);

    await ca.connect(coord.url, 'db');
    await within(ca.whenSynced(), 5000, 'synced');
    expect(seen).toEqual([3, 2, 1, 0]);
    expect(ca.pendingWrites).toBe(0);
    expect(h.pushedBy(a).filter((cs) => cs.changes.length > 0)).toHaveLength(3);
  });

  it('counts each offline commit; the next scan drops one whose values were all overwritten', () => {
    const path = join(h.dir.path, 'drafts.db');
    const first = openSqliteDatabase(path);
    first.declareTable('notes', NOTES);
    const c1 = h.client(first);
    first.put('notes', { id: 1, title: 'draft' });
    first.put('notes', { id: 1, title: 'second draft' });
    first.put('notes', { id: 1, title: 'final' });
    expect(c1.pendingWrites).toBe(4); // the declaration and three commits
    first.close();

    // The second draft's only value was overwritten: nothing of it is left to send.
    const again = openSqliteDatabase(path);
    h.defer(() => again.close());
    expect(h.client(again).pendingWrites).toBe(3);
  });

  it('survives a restart: a reopened replica counts only what its last server did not acknowledge', async () => {
    const coord = await h.coordinator();
    const path = join(h.dir.path, 'a.db');
    const first = openSqliteDatabase(path);
    first.declareTable('notes', NOTES);
    const c1 = h.client(first);
    await h.connectAll(coord.url, 'db', c1);
    first.put('notes', { id: 1, title: 'synced' });
    await within(c1.whenSynced(), 5000, 'synced');
    await c1.disconnect();
    first.put('notes', { id: 2, title: 'offline' });
    first.put('notes', { id: 3, title: 'offline too' });
    first.close();

    const again = openSqliteDatabase(path);
    h.defer(() => again.close());
    again.declareTable('notes', NOTES);
    const c2 = h.client(again);
    expect(c2.pendingWrites).toBe(2);
    await h.connectAll(coord.url, 'db', c2);
    expect(c2.pendingWrites).toBe(0);
  });

  it('a write the server refuses (a rejected event) leaves the count; the row stays local', async () => {
    const coord = await h.coordinator({
      hooks: h.hooks(async (_client, changes) => {
        const bad = (cs: (typeof changes)[number]) =>
          cs.changes.some((c) => c.type === 'column' && c.value === 'forbidden');
        return {
          approved: changes.filter((cs) => !bad(cs)),
          rejected: changes.filter(bad).map((change) => ({ change, reason: 'no', code: 'VALIDATION' })),
        };
      }),
    });
    const a = h.memoryDb();
    a.declareTable('notes', NOTES);
    const ca = h.client(a);
    await h.connectAll(coord.url, 'db', ca);
    await ca.disconnect();
    a.put('notes', { id: 1, title: 'fine' });
    a.put('notes', { id: 2, title: 'forbidden' });
    expect(ca.pendingWrites).toBe(2);
    const rejected: RejectedChange[] = [];
    ca.on('rejected', (r) => rejected.push(r));
    await ca.connect(coord.url, 'db');
    await within(ca.whenSynced(), 5000, 'synced');
    expect(rejected.map((r) => r.reason)).toEqual(['no']);
    expect(ca.pendingWrites).toBe(0);
    expect(a.get('notes', 2)).toMatchObject({ title: 'forbidden' });
  });

  it('a push refused outright (a user who may not write) stays counted', async () => {
    const recording = h.hooks();
    const coord = await h.coordinator({
      hooks: {
        ...recording,
        onAuthorize: async (client, op, ctx) => {
          await recording.onAuthorize!(client, op, ctx);
          return op.type !== 'apply_changes';
        },
      },
    });
    const a = h.memoryDb();
    a.declareTable('notes', NOTES);
    const ca = h.client(a);
    await h.connectAll(coord.url, 'db', ca);
    expect(ca.pendingWrites).toBe(1); // the declaration, refused
    a.put('notes', { id: 1, title: 'not allowed' });
    await waitFor(() => h.errors.filter((e) => e.code === 'APPLY_CHANGES_ERROR').length === 2, {
      what: 'the second refusal',
    });
    await within(ca.whenSynced(), 5000, 'synced with a refused push');
    // Nothing the server took: both are sent again on the next connection.
    expect(ca.pendingWrites).toBe(2);
  });
});
