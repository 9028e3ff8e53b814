// End to end: an interrupted snapshot resumes from its checkpoint, a watermark past the retention
// horizon re-bootstraps without losing unsent writes, refused changes are reported, and fatal
// errors stop reconnecting.
import { WebSocket } from 'ws';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SyncError, type RejectedChange, type SyncStatus } from '@syncord/client';
import { dump, Harness, NOTES } from './harness.js';
import { CuttableProxy, waitFor, within } from './helpers.js';

describe('SyncClient recovery', () => {
  let h: Harness;
  beforeEach(() => {
    h = new Harness();
  });
  afterEach(() => h.dispose());

  it('a snapshot interrupted by a dropped connection resumes from its checkpoint', async () => {
    const coord = await h.coordinator();
    const a = h.memoryDb();
    const tables = ['t1', 't2', 't3', 't4'];
    for (const t of tables) a.declareTable(t, NOTES);
    const ca = h.client(a);
    await ca.connect(coord.url, 'db');
    a.transaction((tx) => {
      for (const t of tables) for (let id = 0; id < 600; id++) tx.put(t, { id, title: `${t}-${id}` });
    });
    await within(ca.whenSynced(), 8000, 'A synced');

    const proxy = new CuttableProxy(coord.port);
    const url = await proxy.start();
    h.defer(() => proxy.stop());
    const c = h.sqliteDb('c');
    const cc = h.client(c);
    const statuses: SyncStatus[] = [];
    cc.on('status', (s) => statuses.push(s));
    // Drop the network mid-stream, right after the first table's last chunk went out.
    proxy.cutWhenServerSends('"type":"table-end"');
    await cc.connect(url, 'db');
    await within(cc.whenSynced(), 8000, 'C synced after resuming');

    expect(h.opsOf(c).filter((op) => op.includes('snapshot'))).toEqual(['get_snapshot', 'resume_snapshot']);
    // The resumed stream carried the checkpoint's snapshot id, so the apply continued from the
    // checkpoint (entries already counted) instead of clearing and starting over.
    const second = statuses.slice(statuses.map((s) => s.state).lastIndexOf('connecting'));
    const header = second.find((s) => s.state === 'bootstrapping' && s.progress.totalTables > 0);
    expect(header?.state === 'bootstrapping' && header.progress.entriesProcessed).toBeGreaterThanOrEqual(1200); // 600 rows × 2 cells
    expect(c.replica.pendingCheckpoint()).toBeUndefined();
    for (const t of tables) expect(dump(c, t)).toBe(dump(a, t));
  });

  it('a watermark past the retention horizon re-bootstraps and keeps unsent local writes', async () => {
    const coord = await h.coordinator({ sync: { retentionHorizonMs: 1 } });
    const a = h.memoryDb();
    const b = h.memoryDb();
    a.declareTable('notes', NOTES);
    const ca = h.client(a);
    const cb = h.client(b);
    await ca.connect(coord.url, 'db');
    for (let id = 1; id <= 5; id++) a.put('notes', { id, title: 'v1' });
    await ca.whenSynced();
    await cb.connect(coord.url, 'db');
    await waitFor(() => b.list('notes').length === 5, { what: 'B to have the rows' });
    b.declareTable('notes', NOTES);
    await cb.disconnect();

    a.delete('notes', 1); // a tombstone B has not seen...
    await ca.whenSynced();
    // ...pruned past the horizon, so B can no longer catch up from its watermark.
    await waitFor(() => coord.server.service.runMaintenance() > 0, { what: 'the tombstone to be pruned' });
    b.put('notes', { id: 6, title: 'written offline by B' });
    b.put('notes', { id: 2, title: 'B edited offline' });

    const snapshotsBefore = h.opsOf(b).filter((op) => op === 'get_snapshot').length;
    await cb.connect(coord.url, 'db');
    await within(cb.whenSynced(), 5000, 'B synced');
    expect(h.opsOf(b).filter((op) => op === 'get_snapshot').length).toBe(snapshotsBefore + 1);
    await waitFor(() => dump(a) === dump(b), { what: 'A and B to converge' });
    expect(b.get('notes', 1)).toBeUndefined();
    expect(a.get('notes', 6)).toMatchObject({ title: 'written offline by B' });
    expect(a.get('notes', 2)).toMatchObject({ title: 'B edited offline' });
    expect(h.errors).toEqual([]);
  });

  it('reports each change the server refused, with its transaction', async () => {
    const coord = await h.coordinator({
      hooks: h.hooks(async (_client, changes) => {
        const bad = (cs: (typeof changes)[number]): boolean =>
          cs.changes.some((c) => c.type === 'column' && typeof c.value === 'string' && c.value.includes('forbidden'));
        return {
          approved: changes.filter((cs) => !bad(cs)),
          rejected: changes.filter(bad).map((change) => ({ change, reason: 'no forbidden words', code: 'VALIDATION' })),
        };
      }),
    });
    const a = h.memoryDb();
    const b = h.memoryDb();
    a.declareTable('notes', NOTES);
    const ca = h.client(a, { pushDebounceMs: 20 });
    const cb = h.client(b);
    await ca.connect(coord.url, 'db');
    await cb.connect(coord.url, 'db');
    await ca.whenSynced();
    const rejected: RejectedChange[] = [];
    ca.on('rejected', (r) => rejected.push(r));
    // Three transactions inside one debounce window: one push batch, one of them refused.
    a.put('notes', { id: 1, title: 'fine' });
    const refused = a.put('notes', { id: 2, title: 'forbidden word' });
    a.put('notes', { id: 3, title: 'also fine' });
    await within(ca.whenSynced(), 5000, 'A synced');
    expect(rejected).toEqual([{ transaction: refused, reason: 'no forbidden words', code: 'VALIDATION' }]);
    await waitFor(() => b.list('notes').length === 2, { what: 'B to get the approved rows' });
    expect(b.get('notes', 2)).toBeUndefined();
    expect(a.get('notes', 2)).toMatchObject({ title: 'forbidden word' }); // kept locally; the app decides
  });

  it('a fatal error stops reconnecting and rejects connect()', async () => {
    const coord = await h.coordinator({ auth: { mode: 'token-whitelist', tokens: ['good'] } });
    const proxy = new CuttableProxy(coord.port);
    const url = await proxy.start();
    h.defer(() => proxy.stop());
    let opened = 0;
    const db = h.memoryDb();
    const client = h.client(db, {
      webSocket: (u) => {
        opened++;
        return new WebSocket(u);
      },
    });
    const failure = await client.connect(url, 'db', { token: 'bad' }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(SyncError);
    expect(failure).toMatchObject({ code: 'AUTH_FAILED', fatal: true });
    expect(client.status.state).toBe('error');
    // Several backoff periods later (10–100 ms each) nothing has tried again.
    await new Promise((r) => setTimeout(r, 300));
    expect(opened).toBe(1);
    expect(client.status.state).toBe('error');

    // A good token works on the same client after the app calls connect() again.
    await client.connect(url, 'db', { token: 'good' });
    await within(client.whenSynced(), 5000, 'synced with a good token');
  });
});
