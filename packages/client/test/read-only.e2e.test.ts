// End to end: a user the server's onAuthorize hook does not let write (the README's read-only
// example) still bootstraps, catches up and receives live changes; its refused pushes are
// reported once, never retried in a loop, and the tables it declared are not pushed at all once
// it knows the server holds the same declaration.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CoordinatorHooks } from '@syncord/coordinator';
import { Harness, NOTES } from './harness.js';
import { waitFor, within } from './helpers.js';

describe('a read-only user', () => {
  let h: Harness;
  beforeEach(() => {
    h = new Harness();
  });
  afterEach(() => h.dispose());

  /** The coordinator README's hook: everyone may read, the user "read-only" may not write. */
  function readOnlyHooks(): CoordinatorHooks {
    const recording = h.hooks();
    return {
      ...recording,
      onAuthenticate: ({ token, siteId }) => ({ siteId: siteId!, ...(token ? { userId: token } : {}) }),
      onAuthorize: async (client, op, ctx) => {
        await recording.onAuthorize!(client, op, ctx);
        return op.type !== 'apply_changes' || client.userId !== 'read-only';
      },
    };
  }

  /** A writer with `rows` synced rows, then a read-only reader (a SQLite file) synced after it. */
  async function writerThenReader(rows: number) {
    const coord = await h.coordinator({ hooks: readOnlyHooks() });
    const w = h.memoryDb();
    w.declareTable('notes', NOTES);
    const cw = h.client(w);
    await cw.connect(coord.url, 'db', { token: 'writer' });
    for (let id = 0; id < rows; id++) w.put('notes', { id, title: `t${id}` });
    await cw.whenSynced();
    // The reader's app declares its tables like any other: a create_table it may not push.
    const r = h.sqliteDb('reader');
    r.declareTable('notes', NOTES);
    const cr = h.client(r);
    await cr.connect(coord.url, 'db', { token: 'read-only' });
    await within(cr.whenSynced(), 5000, 'the read-only client synced');
    return { coord, w, r, cr };
  }

  it('bootstraps, catches up and stays live; a refused push is reported once, not retried', async () => {
    const { w, r, cr } = await writerThenReader(10);
    expect(r.list('notes')).toHaveLength(10);
    expect(h.opsOf(r)).toContain('get_snapshot');

    w.put('notes', { id: 100, title: 'live' });
    await waitFor(() => r.get('notes', 100) !== undefined, { what: 'the live broadcast' });

    // A local write is tried once with the backlog and refused once; it stays local.
    r.put('notes', { id: 200, title: 'not allowed' });
    await waitFor(() => h.errors.length >= 2, { what: 'the second refusal' });
    await within(cr.whenSynced(), 5000, 'synced with a refused write');
    // Several backoff periods (10–100 ms) later nothing was pushed or reported again.
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(h.errors.map((e) => e.code)).toEqual(['APPLY_CHANGES_ERROR', 'APPLY_CHANGES_ERROR']);
    expect(h.opsOf(r).filter((op) => op === 'apply_changes')).toHaveLength(2);
    expect(r.get('notes', 200)).toMatchObject({ title: 'not allowed' });
    expect(w.get('notes', 200)).toBeUndefined();
    expect(cr.status.state).toBe('synced');
  });

  it('does not push a declaration the server already holds, after a restart either', async () => {
    const { coord, w, r, cr } = await writerThenReader(1);
    // The one push before the snapshot is the only one: the snapshot showed the server has the table.
    expect(h.opsOf(r).filter((op) => op === 'apply_changes')).toHaveLength(1);
    await cr.disconnect();
    r.close();

    const reopened = h.sqliteDb('reader');
    reopened.declareTable('notes', NOTES);
    const cr2 = h.client(reopened);
    await cr2.connect(coord.url, 'db', { token: 'read-only' });
    w.put('notes', { id: 2, title: 'two' });
    await waitFor(() => reopened.get('notes', 2) !== undefined, { what: 'the live broadcast' });
    await within(cr2.whenSynced(), 5000, 'synced after the restart');
    expect(h.opsOf(reopened).filter((op) => op === 'apply_changes')).toHaveLength(1);
    expect(h.errors.map((e) => e.code)).toEqual(['APPLY_CHANGES_ERROR']);
  });

  it('keeps a write made while its refused backlog leads to a snapshot', async () => {
    const coord = await h.coordinator({ hooks: readOnlyHooks() });
    const r = h.memoryDb();
    r.declareTable('notes', NOTES);
    const cr = h.client(r);
    await cr.connect(coord.url, 'db', { token: 'read-only' });
    // Written while the refused declaration push is in flight, before the snapshot replaces the
    // replica: it is kept and restored with its own site id and HLC, not dropped as an echo.
    r.put('notes', { id: 1, title: 'mine' });
    await within(cr.whenSynced(), 5000, 'synced with a refused write');
    expect(h.opsOf(r)).toContain('get_snapshot');
    expect(r.get('notes', 1)).toMatchObject({ title: 'mine' });
  });
});
