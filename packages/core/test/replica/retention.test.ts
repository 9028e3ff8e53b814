import { describe, expect, it } from 'vitest';
import { col, del, FACTORIES, perTestReplicas, siteOf, tx } from './helpers.js';

const A = siteOf(1);
const S = siteOf(9);
const T0 = 1_700_000_000_000;
const HOUR = 3_600_000;

describe.each(FACTORIES)('retention on the %s store', (_name, make) => {
  const { f, clock } = perTestReplicas(make, T0);

  it('prunes only tombstones older than the horizon', () => {
    const r = f.open({ now: clock.now });
    r.applyChanges([tx(A, T0, 0, del('t', [1]))]);
    clock.advance(2 * HOUR);
    r.applyChanges([tx(A, T0 + 1, 0, del('t', [2]))]);
    expect(r.pruneTombstones(HOUR)).toBe(1);
    expect(r.getChangesSince(siteOf(5)).flatMap((cs) => cs.changes.map((c) => c.pk[0]))).toEqual([2]);
    expect(() => r.pruneTombstones(-1)).toThrow(RangeError);
  });

  it('refuses delta sync to a watermark that may have missed a pruned tombstone', () => {
    const r = f.open({ now: clock.now });
    r.applyChanges([tx(A, T0, 0, col('t', [1], 'c', 'x'))]);
    const before = r.getChangesSince(S).at(-1)!.hlc; // S saw the cell, not the delete
    r.applyChanges([tx(A, T0 + 5, 0, del('t', [1]))]);
    const after = r.getChangesSince(S, before).at(-1)!.hlc; // S saw the delete
    expect(r.canDeltaSync(S, before)).toEqual({ ok: true });
    clock.advance(2 * HOUR);
    r.getChangesSince(S, after); // keeps S's newest watermark in use
    expect(r.pruneTombstones(HOUR)).toBe(1);
    expect(r.canDeltaSync(S, after)).toEqual({ ok: true });
    expect(r.canDeltaSync(S, before).ok).toBe(false);
    expect(r.canDeltaSync(siteOf(7), after).ok).toBe(false); // never served: unknown coverage
  });

  it('forgets watermarks unused past the horizon, which then cannot delta-sync', () => {
    const r = f.open({ now: clock.now });
    r.applyChanges([tx(A, T0, 0, del('t', [1]))]);
    const w = r.getChangesSince(S).at(-1)!.hlc;
    clock.advance(2 * HOUR);
    r.pruneTombstones(HOUR);
    expect(r.canDeltaSync(S, w).ok).toBe(false);
  });
});
