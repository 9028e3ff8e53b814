import type { HLC } from '@syncord/core';
import { describe, expect, it } from 'vitest';
import { col, collect, del, FACTORIES, perTestReplicas, siteOf, tx } from './helpers.js';

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

  describe('after a restore from a backup that lost the bookkeeping (item 7)', () => {
    /** The original prunes a delete that S, at `before`, never received; the copy gets the facts only. */
    function restoredCopy(pruned: 'keep' | 'none' | 'unknown') {
      // Guarded, as on a coordinator, where the restore's floor applies.
      const r = f.open({ now: clock.now });
      r.applyChanges([tx(A, T0, 0, col('t', [1], 'c', 'x'))]);
      const before = r.getChangesSince(S).at(-1)!.hlc;
      r.applyChanges([tx(A, T0 + 5, 0, del('t', [1]))]);
      clock.advance(2 * HOUR);
      r.applyChanges([tx(A, T0 + 10, 0, col('t', [2], 'c', 'y'))]);
      expect(r.pruneTombstones(HOUR)).toBe(1);
      expect(r.canDeltaSync(S, before).ok).toBe(false);
      const copy = f.open({ now: clock.now, guardCoverage: true });
      copy.applyChanges(r.getChangesSince(siteOf(12)));
      copy.markRestored(pruned === 'keep' ? r.prunedHorizon() : pruned);
      return { copy, before };
    }

    it('refuses a watermark the original could no longer serve gap-free', () => {
      const { copy, before } = restoredCopy('keep');
      expect(copy.canDeltaSync(S, before).ok).toBe(false);
    });

    it('refuses when the original pruning is unknown, and accepts when it pruned nothing', () => {
      expect(restoredCopy('unknown').copy.canDeltaSync(S, restoredCopy('unknown').before).ok).toBe(false);
      const { copy, before } = restoredCopy('none');
      expect(copy.canDeltaSync(S, before).ok).toBe(true);
    });

    it('lets a client bootstrapped after the restore delta-sync, even with nothing new', async () => {
      const { copy, before } = restoredCopy('keep');
      expect(copy.canDeltaSync(S, before).ok).toBe(false);
      const [header] = await collect(copy.snapshot({ requester: S }));
      expect(header?.type).toBe('header');
      const w = (header as { hlc: HLC }).hlc;
      expect(copy.canDeltaSync(S, w)).toEqual({ ok: true });
      clock.advance(1000);
      copy.applyChanges([tx(A, clock.now(), 0, col('t', [3], 'c', 'z'))]); // a write made after the restore
      const next = copy.getChangesSince(S, w);
      expect(next.map((cs) => cs.changes[0]!.pk[0])).toEqual([3]);
      expect(copy.canDeltaSync(S, next.at(-1)!.hlc)).toEqual({ ok: true });
    });
  });
});
