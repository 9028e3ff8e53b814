// The memory store's reported records (what browser storage persists) rebuild the replica exactly,
// after every kind of write, and a transaction that threw reports nothing.
import { ClockDriftError, MAX_DRIFT_MS, MemoryReplicaStore, Replica, type RecordWrite } from '@syncord/core';
import { describe, expect, it } from 'vitest';
import { col, createTable, cutAfter, del, dump, manualClock, siteOf, tx } from './helpers.js';

const A = siteOf(1);
const B = siteOf(2);
const S = siteOf(9);
const T0 = 1_700_000_000_000;
const HOUR = 3_600_000;

function journaled(clock: { now: () => number }) {
  const kept = new Map<string, unknown>();
  const reports: RecordWrite[][] = [];
  const store = new MemoryReplicaStore({
    onCommit: (writes) => {
      reports.push(writes);
      for (const w of writes) {
        if (w.record) kept.set(w.id, structuredClone(w.record));
        else kept.delete(w.id);
      }
    },
  });
  const replica = Replica.open(store, { now: clock.now });
  const reload = (): Replica => {
    const copy = new MemoryReplicaStore();
    copy.load([...kept.values()].map((r) => structuredClone(r)) as never);
    return Replica.open(copy, { now: clock.now });
  };
  return { replica, reload, reports, kept, store };
}

/** Everything a replica's behaviour depends on, as comparable values. */
async function state(r: Replica) {
  return {
    dump: await dump(r),
    siteId: r.siteId,
    lastSeq: r.lastSeq,
    clock: r.clockNow(),
    outbox: r.outboxPeek(100),
    local: r.getLocal('k'),
    checkpoint: r.pendingCheckpoint(),
    counts: r.tableCounts(),
    horizon: r.prunedHorizon(),
  };
}

describe('memory store records', () => {
  it('rebuild the replica after each kind of write', async () => {
    const clock = manualClock(T0);
    const { replica: r, reload, kept, store } = journaled(clock);
    const same = async () => {
      expect(await state(reload())).toEqual(await state(r));
      // A compaction writes exactly what the reports added up to.
      expect(new Map(store.exportRecords().map((w) => [w.id, w.record]))).toEqual(kept);
    };
    await same();

    r.commitLocal({
      changes: [{ type: 'column', schema: 'main', table: 't', pk: [1], column: 'c', value: 'x' }],
      migrations: [],
    });
    await same();
    r.applyChanges(
      [tx(A, T0, 0, createTable('t'), col('t', [2], 'c', 7n), col('t', [2], 'd', new Uint8Array([1, 2])))],
      {
        outbox: () => 'archived',
      },
    );
    await same();
    r.applyChanges([tx(A, T0 + 1, 0, del('t', [2]), col('t', [3], 'j', { a: [1, null] }))]);
    await same();
    r.setLocal('k', 'v');
    await same();
    const w = r.getChangesSince(S).at(-1)!.hlc; // a watermark record for S
    await same();
    expect(reload().canDeltaSync(S, w)).toEqual(r.canDeltaSync(S, w));
    r.outboxAck(r.outboxPeek(1)[0]!.id);
    await same();
    clock.advance(2 * HOUR);
    expect(r.pruneTombstones(HOUR)).toBe(1);
    await same();

    // An interrupted snapshot leaves a checkpoint, then a completed one replaces everything.
    const source = Replica.open(new MemoryReplicaStore(), { now: clock.now });
    source.applyChanges([tx(B, T0 + 5, 0, col('u', [1], 'c', 'u1')), tx(B, T0 + 6, 0, col('v', [1], 'c', 'v1'))]);
    await expect(r.applySnapshot(cutAfter(source.snapshot({ chunkSize: 1 }), 3))).rejects.toThrow('connection lost');
    expect(r.pendingCheckpoint()).toBeDefined();
    await same();
    await r.applySnapshot(source.snapshot());
    await same();

    // Ids are never reused, even when the reloaded outbox was empty.
    r.applyChanges([tx(A, T0 + 7, 0, col('t', [4], 'c', 1))], { outbox: () => 'next' });
    const id = r.outboxPeek(1)[0]!.id;
    r.outboxAck(id);
    const again = reload();
    again.applyChanges([tx(A, T0 + 8, 0, col('t', [5], 'c', 1))], { outbox: () => 'after' });
    expect(again.outboxPeek(1)[0]!.id).toBeGreaterThan(id);
  });

  it('are not reported for a transaction that threw, and stay as they were', async () => {
    const clock = manualClock(T0);
    const { replica: r, reload, reports } = journaled(clock);
    r.applyChanges([tx(A, T0, 0, col('t', [1], 'c', 'x'))]);
    const before = reports.length;
    expect(() => r.applyChanges([tx(A, T0 + MAX_DRIFT_MS + 1, 0, col('t', [2], 'c', 'y'))])).toThrow(ClockDriftError);
    expect(() =>
      r.applyChanges([tx(A, T0 + 1, 0, col('t', [3], 'c', 'z'))], {
        outbox: () => {
          throw new Error('refused');
        },
      }),
    ).toThrow('refused');
    expect(reports.length).toBe(before);
    expect(await state(reload())).toEqual(await state(r));
  });

  it('hold each record once per commit, a row with its cells and tombstone together', () => {
    const clock = manualClock(T0);
    const { replica: r, reports } = journaled(clock);
    reports.length = 0;
    r.applyChanges([tx(A, T0, 0, col('t', [1], 'a', 1), col('t', [1], 'b', 2))]);
    const rows = reports[0]!.filter((w) => w.record?.kind === 'row');
    expect(rows).toHaveLength(1);
    expect(rows[0]!.record).toMatchObject({
      kind: 'row',
      table: 't',
      pk: [1],
      cells: [{ column: 'a' }, { column: 'b' }],
    });
    expect(new Set(reports[0]!.map((w) => w.id)).size).toBe(reports[0]!.length);
  });
});
