import { ClockDriftError, MAX_DRIFT_MS, type ApplyResult } from '@syncord/core';
import { describe, expect, it } from 'vitest';
import { col, dump, FACTORIES, perTestReplicas, rowOf, siteOf, tx, reopenable } from './helpers.js';

const A = siteOf(1);
const B = siteOf(2);
const S = siteOf(9);
const T0 = 1_700_000_000_000;

describe.each(FACTORIES)('group commit on the %s store', (kind, make) => {
  const { f, clock } = perTestReplicas(make, T0 + 10_000);

  it('gives each batch the result it would get alone, in order', async () => {
    const grouped = f.open({ now: clock.now });
    const alone = f.open({ now: clock.now });
    const batches = [
      [tx(A, T0, 0, col('t', [1], 'c', 'a1'), col('t', [2], 'c', 'a2'))],
      [tx(B, T0 + 1, 0, col('t', [1], 'c', 'b1'))],
      [tx(A, T0, 0, col('t', [1], 'c', 'a1'))], // already held after the first batch
    ];
    const results = grouped.applyGroup(batches.map((changeSets) => ({ changeSets })));
    expect(results).toEqual(batches.map((sets) => alone.applyChanges(sets)));
    expect(await dump(grouped)).toEqual(await dump(alone));
    expect(grouped.lastSeq).toBe(alone.lastSeq);
    const { wallTime, counter } = alone.clockNow();
    expect(grouped.clockNow()).toMatchObject({ wallTime, counter });
  });

  it('undoes only the failing batch: its writes, clock and sequence; the others commit', async () => {
    const r = f.open({ now: clock.now });
    const ahead = T0 + 10_000 + MAX_DRIFT_MS + 1;
    const results = r.applyGroup([
      { changeSets: [tx(A, T0, 0, col('t', [1], 'c', 'x'))] },
      // Valid facts first, then one from a clock too far ahead: refused whole.
      { changeSets: [tx(B, T0 + 1, 0, col('t', [2], 'c', 'y')), tx(B, ahead, 0, col('t', [3], 'c', 'z'))] },
      () => {
        throw new Error('refused by its builder');
      },
      { changeSets: [tx(B, T0 + 2, 0, col('t', [4], 'c', 'w'))] },
    ]);
    expect(results[0]).toEqual({ applied: 1, skipped: 0, conflicts: 0, transactions: 1 });
    expect(results[1]).toBeInstanceOf(ClockDriftError);
    expect((results[2] as Error).message).toBe('refused by its builder');
    expect(results[3]).toEqual({ applied: 1, skipped: 0, conflicts: 0, transactions: 1 });
    expect(rowOf(r, 't', [1])).toEqual({ c: 'x' });
    expect(rowOf(r, 't', [2])).toBeUndefined();
    expect(rowOf(r, 't', [4])).toEqual({ c: 'w' });
    expect(r.lastSeq).toBe(2);
    expect(r.clockNow().wallTime).toBeLessThan(BigInt(ahead));
    const served = r.getChangesSince(S).flatMap((cs) => cs.changes.map((c) => c.pk[0]));
    expect(served.sort()).toEqual([1, 4]);
  });

  it('builds a function batch after the earlier batches merged, and records each outbox entry with its own batch', () => {
    const r = f.open({ now: clock.now });
    const seen: boolean[] = [];
    const outbox = (res: ApplyResult) => `applied ${res.applied}`;
    const results = r.applyGroup([
      { changeSets: [tx(A, T0, 0, col('t', [1], 'c', 'x'))], options: { outbox } },
      () => {
        seen.push(r.hasTable('main', 't'));
        return {
          changeSets: [tx(B, T0 + 1, 0, col('t', [2], 'c', 'y'), col('t', [3], 'c', 'z'))],
          options: { outbox },
        };
      },
      () => ({ changeSets: [] }),
    ]);
    expect(seen).toEqual([true]);
    expect(results[2]).toEqual({ applied: 0, skipped: 0, conflicts: 0, transactions: 0 });
    expect(r.outboxPeek(10).map((e) => e.body)).toEqual(['applied 1', 'applied 2']);
  });

  if (reopenable(kind)) {
    it('commits the group durably: a reopened store holds every batch that succeeded', async () => {
      const r = f.open({ now: clock.now }, 'durable');
      r.applyGroup([
        { changeSets: [tx(A, T0, 0, col('t', [1], 'c', 'x'))] },
        { changeSets: [tx(B, T0 + MAX_DRIFT_MS * 2 + 20_000, 0, col('t', [2], 'c', 'y'))] },
        { changeSets: [tx(B, T0 + 1, 0, col('t', [3], 'c', 'z'))] },
      ]);
      const before = await dump(r);
      r.close();
      const again = f.open({ now: clock.now }, 'durable');
      expect(await dump(again)).toEqual(before);
      expect(rowOf(again, 't', [2])).toBeUndefined();
      expect(again.lastSeq).toBe(2);
    });
  }
});
