// ApplyOptions.onApplied: what an apply changed, as the change sets a relay passes on (only the
// facts that applied, so duplicates and losers are never relayed).
import { encodeChangeSet, type ChangeSet } from '@syncord/core';
import { describe, expect, it } from 'vitest';
import { col, createTable, del, FACTORIES, perTestReplicas, siteOf, tx } from './helpers.js';

const A = siteOf(1);
const B = siteOf(2);
const C = siteOf(3);
const T0 = 1_700_000_000_000;

describe.each(FACTORIES)('applyChanges onApplied on the %s store', (_name, make) => {
  const { f, clock } = perTestReplicas(make, T0 + 10_000);

  function applied(r: ReturnType<typeof f.open>, sets: ChangeSet[]): ChangeSet[] | undefined {
    let out: ChangeSet[] | undefined;
    r.applyChanges(sets, { onApplied: (s) => (out = s) });
    return out;
  }

  it('reports each set trimmed to what applied, its hlc the newest fact left', () => {
    const r = f.open({ now: clock.now });
    const stored = tx(A, T0, 0, createTable('t'), col('t', [1], 'a', 'x'), del('t', [9]));
    r.applyChanges([stored, tx(C, T0 + 10, 0, col('t', [3], 'a', 'z'))]);

    const duplicate = stored;
    const mixed = tx(B, T0 + 5, 0, col('t', [2], 'a', 'new'), col('t', [3], 'a', 'loses'), del('t', [9]));
    const ddl = tx(B, T0 - 1, 0, createTable('t'), createTable('u'), col('u', [1], 'a', 1));
    const whole = tx(B, T0 + 6, 0, col('t', [4], 'a', 'w'));
    const out = applied(r, [duplicate, mixed, ddl, whole])!;

    expect(out.map((cs) => encodeChangeSet(cs))).toEqual(
      [
        { ...mixed, changes: [mixed.changes[0]!, mixed.changes[2]!], hlc: mixed.changes[2]!.hlc },
        { ...ddl, schemaMigrations: [ddl.schemaMigrations[1]!] },
        whole,
      ].map((cs) => encodeChangeSet(cs)),
    );
    expect(out[2]).toBe(whole);
  });

  it('reports [] when nothing applied, and the last fact dropped renormalises the hlc', () => {
    const r = f.open({ now: clock.now });
    const stored = tx(A, T0, 0, col('t', [1], 'a', 'x'));
    r.applyChanges([stored, tx(C, T0 + 10, 0, col('t', [2], 'a', 'z'))]);
    expect(applied(r, [stored])).toEqual([]);
    expect(applied(r, [])).toEqual([]);
    const set = tx(B, T0 + 5, 0, col('t', [3], 'a', 'new'), col('t', [2], 'a', 'loses'));
    const [only] = applied(r, [set])!;
    expect(only!.hlc).toEqual(set.changes[0]!.hlc);
    expect(only!.changes).toEqual([set.changes[0]]);
  });
});
