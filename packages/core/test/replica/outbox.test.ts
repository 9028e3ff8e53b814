import { ClockDriftError, MAX_DRIFT_MS, type ApplyResult } from '@syncord/core';
import { describe, expect, it } from 'vitest';
import { col, dump, FACTORIES, perTestReplicas, siteOf, tx, reopenable } from './helpers.js';

const A = siteOf(1);
const T0 = 1_700_000_000_000;

describe.each(FACTORIES)('the outbox on the %s store', (kind, make) => {
  const { f, clock } = perTestReplicas(make, T0 + 10_000);

  it('records the callback text with an apply that applied something, never with one that did not', () => {
    const r = f.open({ now: clock.now });
    const seen: ApplyResult[] = [];
    const outbox = (result: ApplyResult) => {
      seen.push(result);
      return `batch ${seen.length}`;
    };
    const first = tx(A, T0, 0, col('t', [1], 'c', 'x'));
    r.applyChanges([first], { outbox });
    expect(r.applyChanges([first], { outbox })).toMatchObject({ applied: 0, conflicts: 1 });
    r.applyChanges([tx(A, T0 + 1, 0, col('t', [2], 'c', 'y'))], { outbox });
    r.applyChanges([tx(A, T0 + 2, 0, col('t', [3], 'c', 'z'))]);
    expect(seen).toEqual([
      { applied: 1, skipped: 0, conflicts: 0, transactions: 1 },
      { applied: 1, skipped: 0, conflicts: 0, transactions: 1 },
    ]);
    expect(r.outboxPeek(10)).toEqual([
      { id: expect.any(Number) as number, body: 'batch 1', createdAt: T0 + 10_000 },
      { id: expect.any(Number) as number, body: 'batch 2', createdAt: T0 + 10_000 },
    ]);
    expect(r.outboxStats()).toEqual({ count: 2, oldestCreatedAt: T0 + 10_000 });
  });

  it('peeks oldest first and forgets acknowledged entries; ids are never reused', () => {
    const r = f.open({ now: clock.now });
    for (let i = 0; i < 4; i++) {
      clock.set(T0 + 10_000 + i);
      r.applyChanges([tx(A, T0 + i, 0, col('t', [i], 'c', i))], { outbox: () => `b${i}` });
    }
    const [e0, e1] = r.outboxPeek(2);
    expect([e0?.body, e1?.body]).toEqual(['b0', 'b1']);
    r.outboxAck(e1!.id);
    r.outboxAck(e1!.id); // twice is harmless
    expect(r.outboxPeek(10).map((e) => e.body)).toEqual(['b0', 'b2', 'b3']);
    r.outboxAck(e0!.id);
    expect(r.outboxStats()).toEqual({ count: 2, oldestCreatedAt: T0 + 10_002 });
    for (const e of r.outboxPeek(10)) r.outboxAck(e.id);
    expect(r.outboxStats()).toEqual({ count: 0 });
    r.applyChanges([tx(A, T0 + 9, 0, col('t', [9], 'c', 9))], { outbox: () => 'b9' });
    expect(r.outboxPeek(1)[0]!.id).toBeGreaterThan(e1!.id);
    expect(() => r.outboxPeek(0)).toThrow(RangeError);
  });

  it('writes nothing when the apply fails: a throwing callback or a drift rejection', async () => {
    const r = f.open({ now: clock.now });
    r.applyChanges([tx(A, T0, 0, col('t', [1], 'c', 'x'))], { outbox: () => 'kept' });
    const before = await dump(r);
    const seq = r.lastSeq;
    expect(() =>
      r.applyChanges([tx(A, T0 + 1, 0, col('t', [2], 'c', 'y'))], {
        outbox: () => {
          throw new Error('no record, no merge');
        },
      }),
    ).toThrow('no record, no merge');
    expect(() =>
      r.applyChanges([tx(A, T0 + 10_000 + MAX_DRIFT_MS + 1, 0, col('t', [3], 'c', 'z'))], { outbox: () => 'never' }),
    ).toThrow(ClockDriftError);
    expect(await dump(r)).toEqual(before);
    expect(r.lastSeq).toBe(seq);
    expect(r.outboxPeek(10).map((e) => e.body)).toEqual(['kept']);
  });

  if (reopenable(kind)) {
    it('survives close and reopen with the data it came with', () => {
      const r = f.open({ now: clock.now }, 'durable');
      r.applyChanges([tx(A, T0, 0, col('t', [1], 'c', 'x'))], { outbox: () => 'pending' });
      r.close();
      const again = f.open({ now: clock.now }, 'durable');
      expect(again.outboxPeek(5).map((e) => e.body)).toEqual(['pending']);
      expect(again.readRow('main', 't', [1])?.get('c')).toBe('x');
    });
  }
});

describe.each(FACTORIES)('creating a replica with a given site id on the %s store', (kind, make) => {
  const { f } = perTestReplicas(make);

  it('takes the site id for a new store and keeps the stored one for an existing store', () => {
    const r = f.open({ siteId: A }, 'named');
    expect(r.siteId).toEqual(A);
    expect(r.lastSeq).toBe(0);
    if (reopenable(kind)) {
      r.close();
      expect(f.open({ siteId: siteOf(2) }, 'named').siteId).toEqual(A);
    }
  });
});
