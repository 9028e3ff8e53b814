// Item 4: with guardCoverage, nobody claiming another site's id can make the server record a
// watermark as covering a late fact the real site never received.
import type { ChangeSet, HLC } from '@syncord/core';
import { describe, expect, it } from 'vitest';
import { col, FACTORIES, perTestReplicas, siteOf, tx } from './helpers.js';

const A = siteOf(1);
const B = siteOf(2);
const V = siteOf(9); // the victim; the impostor claims this id too
const T0 = 1_700_000_000_000;

const values = (sets: ChangeSet[]): unknown[] =>
  sets.flatMap((cs) => cs.changes.map((c) => (c.type === 'column' ? c.value : undefined)));

/** An HLC just below `h` (same transaction, opSeq - 1, or the previous wall time). */
function justBelow(h: HLC): HLC {
  return h.opSeq > 0 ? { ...h, opSeq: h.opSeq - 1 } : { ...h, wallTime: h.wallTime - 1n };
}

describe.each(FACTORIES)('guarded coverage on the %s store', (_name, make) => {
  const { f, clock } = perTestReplicas(make, T0 + 100_000);

  it('an impostor asking from just below the victim watermark cannot hide a late fact from it', () => {
    const r = f.open({ now: clock.now, guardCoverage: true });
    r.applyChanges([tx(A, T0 + 50, 0, col('t', [1], 'c', 'w'))]);
    const w = r.getChangesSince(V).at(-1)!.hlc; // the victim's reply: its watermark is W
    r.applyChanges([tx(B, T0 + 10, 0, col('t', [2], 'c', 'F'))]); // late fact F below W
    const spoof = r.getChangesSince(V, justBelow(w)); // impostor claims V's site id
    expect(values(spoof)).toContain('w');
    expect(values(r.getChangesSince(V, w))).toEqual(['F']);
  });

  it('an impostor flooding records to evict the victim record cannot hide a late fact either', () => {
    const r = f.open({ now: clock.now, guardCoverage: true, watermarksPerSite: 2 });
    r.applyChanges([tx(A, T0 + 50, 0, col('t', [1], 'c', 'w'))]);
    const w = r.getChangesSince(V).at(-1)!.hlc;
    r.applyChanges([tx(B, T0 + 10, 0, col('t', [2], 'c', 'F'))]);
    // Records at other watermarks push the victim's out of the per-site LRU...
    for (let i = 1; i <= 3; i++) {
      r.applyChanges([tx(A, T0 + 60 + i, 0, col('t', [10 + i], 'c', i))]);
      r.getChangesSince(V, { ...w, wallTime: w.wallTime + BigInt(10 + i) });
    }
    // ...then the impostor asks from just below W, trying to re-create (V, W) with F covered.
    expect(values(r.getChangesSince(V, justBelow(w), { batchSize: 2 }))).toEqual(['F', 'w']); // its max is W
    expect(values(r.getChangesSince(V, w))).toContain('F');
  });

  it('a whole site evicted from the table leaves a database-wide floor', () => {
    const r = f.open({ now: clock.now, guardCoverage: true, maxWatermarkSites: 1 });
    r.applyChanges([tx(A, T0 + 50, 0, col('t', [1], 'c', 'w'))]);
    const w = r.getChangesSince(V).at(-1)!.hlc;
    r.applyChanges([tx(B, T0 + 10, 0, col('t', [2], 'c', 'F'))]);
    r.getChangesSince(siteOf(10)); // another site takes the only slot: V's records are gone
    r.getChangesSince(V, justBelow(w));
    expect(values(r.getChangesSince(V, w))).toContain('F');
  });

  it('a restore raises the floor to its clock: no reply re-creates a lost record', () => {
    const r = f.open({ now: clock.now, guardCoverage: true });
    r.applyChanges([tx(A, T0 + 50, 0, col('t', [1], 'c', 'w'))]);
    const w = r.getChangesSince(V).at(-1)!.hlc;
    const copy = f.open({ now: clock.now, guardCoverage: true }); // a restore: the facts, no records
    copy.applyChanges(r.getChangesSince(siteOf(12)));
    copy.markRestored('none');
    copy.applyChanges([tx(B, T0 + 10, 0, col('t', [2], 'c', 'F'))]);
    copy.getChangesSince(V, justBelow(w));
    expect(values(copy.getChangesSince(V, w))).toContain('F');
  });

  it('a reply may still create a record, and the raise rule still raises it', () => {
    const r = f.open({ now: clock.now, guardCoverage: true });
    r.applyChanges([tx(A, T0 + 50, 0, col('t', [1], 'c', 'w'))]);
    const w = r.getChangesSince(V).at(-1)!.hlc;
    r.applyChanges([tx(A, T0 + 60, 0, col('t', [2], 'c', 'up'))]);
    expect(values(r.getChangesSince(V, w))).toEqual(['up']); // no late facts: raise to now
    r.applyChanges([tx(B, T0 + 10, 0, col('t', [3], 'c', 'F'))]);
    expect(values(r.getChangesSince(V, w))).toEqual(['F', 'up']); // only F is late
  });
});
