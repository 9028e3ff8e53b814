// Operator reads of a replica: per-table counts and a paged read of rows with each cell's version.
import { encodeSiteId } from '@syncord/core';
import { describe, expect, it } from 'vitest';
import { col, del, FACTORIES, perTestReplicas, siteOf, tx } from './helpers.js';

const A = siteOf(1);
const B = siteOf(2);
const T0 = 1_700_000_000_000;

describe.each(FACTORIES)('table counts and row pages on the %s store', (_kind, make) => {
  const { f, clock } = perTestReplicas(make, T0 + 10_000);

  it('counts live rows, cells and tombstones per table, following overwrites and deletes', () => {
    const r = f.open({ now: clock.now });
    expect(r.tableCounts()).toEqual([]);
    r.applyChanges([
      tx(A, T0, 0, col('notes', [1], 'a', 1), col('notes', [1], 'b', 2), col('notes', [1], 'c', 3)),
      tx(A, T0, 1, col('notes', [2], 'a', 'x'), col('tags', ['t'], 'n', 1)),
    ]);
    // B takes one column of row 1 away from A's fragment: still 3 cells there, one from each write.
    r.applyChanges([tx(B, T0 + 1, 0, col('notes', [1], 'b', 20))]);
    // Row 2 goes; a tombstone alone still lists its table.
    r.applyChanges([tx(B, T0 + 2, 0, del('notes', [2]), del('gone', [9]))]);
    expect(r.tableCounts()).toEqual([
      { schema: 'main', table: 'gone', rows: 0, cells: 0, tombstones: 1 },
      { schema: 'main', table: 'notes', rows: 1, cells: 3, tombstones: 1 },
      { schema: 'main', table: 'tags', rows: 1, cells: 1, tombstones: 0 },
    ]);
  });

  it('reads rows a page at a time with every cell value, HLC and arrival sequence', () => {
    const r = f.open({ now: clock.now });
    r.applyChanges([tx(A, T0, 0, col('t', [1], 'v', 'one'), col('t', [2], 'v', 2n), col('t', [3], 'v', null))]);
    r.applyChanges([tx(B, T0 + 5, 3, col('t', [2], 'w', new Uint8Array([1, 2])))]);
    const first = r.readRowPage('main', 't', 2);
    expect(first.rows.map((row) => row.pk)).toEqual([[1], [2]]);
    expect(first.next).toBe(first.rows[1]!.pkKey);
    const two = first.rows[1]!;
    expect(two.cells.map((c) => [c.column, c.value, Number(c.hlc.wallTime), c.hlc.counter])).toEqual([
      ['v', 2n, T0, 0],
      ['w', new Uint8Array([1, 2]), T0 + 5, 3],
    ]);
    expect(two.cells.map((c) => encodeSiteId(c.hlc.siteId))).toEqual([encodeSiteId(A), encodeSiteId(B)]);
    expect(two.cells[1]!.seq).toBeGreaterThan(two.cells[0]!.seq);
    const rest = r.readRowPage('main', 't', 2, first.next);
    expect(rest.rows.map((row) => row.pk)).toEqual([[3]]);
    expect(rest.next).toBeUndefined();
    expect(r.readRowPage('main', 'missing', 5)).toEqual({ rows: [] });
    expect(() => r.readRowPage('main', 't', 0)).toThrow(RangeError);
  });
});
