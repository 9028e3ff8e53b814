import { ClockDriftError, compareHLC, MAX_DRIFT_MS, WireError, type ChangeSet } from '@syncord/core';
import { describe, expect, it } from 'vitest';
import { col, createTable, del, dump, FACTORIES, perTestReplicas, rowOf, siteOf, tx } from './helpers.js';

const A = siteOf(1);
const B = siteOf(2);
const T0 = 1_700_000_000_000;

describe.each(FACTORIES)('applyChanges on the %s store', (_name, make) => {
  const { f, clock } = perTestReplicas(make, T0 + 10_000);

  it('applies new cells, counts duplicates and older versions as conflicts, lets newer ones win', () => {
    const r = f.open({ now: clock.now });
    const first = tx(A, T0, 0, col('notes', [1], 'id', 1), col('notes', [1], 'title', 'a'));
    expect(r.applyChanges([first])).toEqual({ applied: 2, skipped: 0, conflicts: 0, transactions: 1 });
    expect(r.applyChanges([first])).toEqual({ applied: 0, skipped: 0, conflicts: 2, transactions: 1 });
    expect(r.applyChanges([tx(B, T0 - 5, 0, col('notes', [1], 'title', 'old'))])).toMatchObject({ conflicts: 1 });
    expect(r.applyChanges([tx(B, T0 + 5, 0, col('notes', [1], 'title', 'new'))])).toMatchObject({ applied: 1 });
    expect(rowOf(r, 'notes', [1])).toEqual({ id: 1, title: 'new' });
  });

  it('breaks equal wall/counter ties by site id', () => {
    const r = f.open({ now: clock.now });
    r.applyChanges([tx(B, T0, 0, col('t', [1], 'c', 'from B'))]);
    expect(r.applyChanges([tx(A, T0, 0, col('t', [1], 'c', 'from A'))])).toMatchObject({ conflicts: 1 });
    expect(rowOf(r, 't', [1])).toEqual({ c: 'from B' });
  });

  it('lets a delete beat cells whatever their HLC and blocks later column writes', () => {
    const r = f.open({ now: clock.now });
    r.applyChanges([tx(A, T0 + 100, 0, col('t', [1], 'c', 'x'))]);
    expect(r.applyChanges([tx(B, T0, 0, del('t', [1]))])).toMatchObject({ applied: 1 });
    expect(rowOf(r, 't', [1])).toBeUndefined();
    expect(r.applyChanges([tx(B, T0 - 1, 0, del('t', [1]))])).toMatchObject({ skipped: 1 });
    expect(r.applyChanges([tx(A, T0 + 200, 0, col('t', [1], 'c', 'y'))])).toMatchObject({ skipped: 1, applied: 0 });
    expect(rowOf(r, 't', [1])).toBeUndefined();
  });

  it('with allowResurrection, a column newer than the tombstone revives the row, an older one does not', () => {
    const r = f.open({ now: clock.now, allowResurrection: true });
    r.applyChanges([tx(B, T0, 0, del('t', [1]))]);
    expect(r.applyChanges([tx(A, T0 - 1, 0, col('t', [1], 'c', 'old'))])).toMatchObject({ skipped: 1 });
    expect(r.applyChanges([tx(A, T0 + 1, 0, col('t', [1], 'c', 'new'))])).toMatchObject({ applied: 1 });
    expect(rowOf(r, 't', [1])).toEqual({ c: 'new' });
  });

  it('with allowResurrection the outcome does not depend on arrival order', async () => {
    const cell = tx(A, T0 + 10, 0, col('t', [1], 'c', 'v'));
    const tomb = tx(B, T0, 0, del('t', [1]));
    const r1 = f.open({ now: clock.now, allowResurrection: true });
    const r2 = f.open({ now: clock.now, allowResurrection: true });
    r1.applyChanges([cell]);
    r1.applyChanges([tomb]);
    r2.applyChanges([tomb]);
    r2.applyChanges([cell]);
    expect(await dump(r1)).toEqual(await dump(r2));
    expect(rowOf(r1, 't', [1])).toEqual({ c: 'v' });
  });

  it('reconciles within a batch: a delete applied in the batch blocks its column writes, counters follow', () => {
    const r = f.open({ now: clock.now });
    const res = r.applyChanges([
      tx(A, T0 + 50, 0, col('t', [1], 'a', 1), col('t', [1], 'b', 2)),
      tx(B, T0, 0, del('t', [1])),
      tx(B, T0 + 1, 0, col('t', [2], 'a', 'kept')),
    ]);
    expect(res).toEqual({ applied: 2, skipped: 2, conflicts: 0, transactions: 3 });
    expect(rowOf(r, 't', [1])).toBeUndefined();
    expect(rowOf(r, 't', [2])).toEqual({ a: 'kept' });
  });

  it('writes only the max HLC per cell within a batch, whatever the batch order', () => {
    const r = f.open({ now: clock.now });
    const res = r.applyChanges([
      tx(B, T0 + 2, 0, col('t', [1], 'c', 'newest')),
      tx(A, T0 + 1, 0, col('t', [1], 'c', 'older')),
    ]);
    expect(res).toMatchObject({ applied: 2 });
    expect(rowOf(r, 't', [1])).toEqual({ c: 'newest' });
  });

  it('skips facts that originate at its own site (echo)', () => {
    const r = f.open({ now: clock.now });
    const own = tx(r.siteId, T0, 0, col('t', [1], 'c', 'echo'), del('t', [2]));
    expect(r.applyChanges([own])).toEqual({ applied: 0, skipped: 2, conflicts: 0, transactions: 1 });
    expect(rowOf(r, 't', [1])).toBeUndefined();
  });

  it('addresses one row by 5 and 5n alike, and keeps other types apart', () => {
    const r = f.open({ now: clock.now });
    r.applyChanges([tx(A, T0, 0, col('t', [5], 'c', 'number'))]);
    expect(r.applyChanges([tx(A, T0 + 1, 0, col('t', [5n], 'c', 'bigint'))])).toMatchObject({ applied: 1 });
    expect(rowOf(r, 't', [5])).toEqual({ c: 'bigint' });
    expect(rowOf(r, 't', [5n])).toEqual({ c: 'bigint' });
    r.applyChanges([tx(A, T0 + 2, 0, col('t', ['5'], 'c', 'string'))]);
    expect(rowOf(r, 't', [5])).toEqual({ c: 'bigint' });
    r.applyChanges([tx(B, T0 + 3, 0, del('t', [2n ** 60n]))]);
    expect(r.applyChanges([tx(A, T0 + 4, 0, col('t', [2 ** 60], 'c', 'x'))])).toMatchObject({ skipped: 1 });
  });

  it('records migrations by (schema, kind, name, version): duplicates and older ones skipped', () => {
    const r = f.open({ now: clock.now });
    const m1 = tx(A, T0, 0, createTable('notes'));
    expect(r.applyChanges([m1])).toMatchObject({ applied: 1 });
    expect(r.applyChanges([m1])).toMatchObject({ applied: 0, skipped: 1 });
    expect(r.applyChanges([tx(B, T0 - 1, 0, createTable('notes'))])).toMatchObject({ skipped: 1 });
    expect(r.applyChanges([tx(B, T0 + 1, 0, createTable('notes'))])).toMatchObject({ applied: 1 });
    const idx = {
      type: 'add_index' as const,
      schema: 'main',
      table: 'notes',
      ddl: 'create index notes on x(y)',
      schemaVersion: 1,
    };
    expect(r.applyChanges([tx(B, T0 + 2, 0, idx)])).toMatchObject({ applied: 1 });
    expect(r.hasTable('main', 'notes')).toBe(true);
    expect(r.hasTable('main', 'other')).toBe(false);
  });

  it('refuses a batch from a clock more than 60 s ahead and writes nothing', async () => {
    const r = f.open({ now: clock.now });
    r.applyChanges([tx(A, T0, 0, col('t', [1], 'c', 'v'))]);
    const before = await dump(r);
    const clockBefore = r.clockNow();
    const ahead = T0 + 10_000 + MAX_DRIFT_MS + 1;
    const batch = [tx(B, T0 + 1, 0, col('t', [2], 'c', 'ok')), tx(B, ahead, 0, col('t', [3], 'c', 'future'))];
    expect(() => r.applyChanges(batch)).toThrow(ClockDriftError);
    expect(await dump(r)).toEqual(before);
    expect(compareHLC(r.clockNow(), clockBefore)).toBe(0);
    expect(r.applyChanges([tx(B, T0 + 10_000 + MAX_DRIFT_MS, 0, col('t', [3], 'c', 'edge'))])).toMatchObject({
      applied: 1,
    });
  });

  it('merges the batch max into the clock', () => {
    const r = f.open({ now: clock.now });
    r.applyChanges([tx(A, T0 + 30_000, 7, col('t', [1], 'c', 'v'))]);
    expect(r.clockNow()).toMatchObject({ wallTime: BigInt(T0 + 30_000), counter: 8 });
  });

  it('refuses malformed change sets before writing anything', async () => {
    const r = f.open({ now: clock.now });
    const good = tx(A, T0, 0, col('t', [1], 'c', 'v'));
    const bad = { ...tx(A, T0 + 1, 0, col('t', [2], 'c', 'v')) };
    (bad as { changes: unknown }).changes = [{ ...bad.changes[0], pk: [] }];
    expect(() => r.applyChanges([good, bad as ChangeSet])).toThrow(WireError);
    expect(await dump(r)).toEqual([]);
  });

  it('returns zero counts for an empty batch', () => {
    const r = f.open({ now: clock.now });
    expect(r.applyChanges([])).toEqual({ applied: 0, skipped: 0, conflicts: 0, transactions: 0 });
  });

  it('stores every SqlValue type faithfully', () => {
    const r = f.open({ now: clock.now });
    const values = {
      nil: null,
      str: 'héllo ☃',
      int: 42,
      float: -1.5,
      negZero: -0,
      big: 2n ** 70n,
      yes: true,
      no: false,
      blob: new Uint8Array([0, 1, 255]),
      json: { a: [1, { b: null }], c: 'x' },
      arr: [1, 'two'],
    };
    r.applyChanges([tx(A, T0, 0, ...Object.entries(values).map(([k, v]) => col('t', [1, 'k'], k, v)))]);
    const expected = { ...values, negZero: 0 }; // JSON has no -0; every replica stores 0
    expect(rowOf(r, 't', [1, 'k'])).toEqual(expected);
    const served = r.getChangesSince(B)[0]!.changes;
    expect(
      Object.fromEntries(
        served.map((c) => [c.type === 'column' ? c.column : '', c.type === 'column' ? c.value : null]),
      ),
    ).toEqual(expected);
  });
});
