// Replica.holds: the read behind the coordinator's origin check. A fact is held when the stored
// state has it at the same or a newer version, which must mean merging it changes nothing.
import type { Change, ChangeSet, ColumnChange, DeleteChange, Replica, SchemaMigration } from '@syncord/core';
import { describe, expect, it } from 'vitest';
import { col, createTable, del, dump, FACTORIES, perTestReplicas, siteOf, tx } from './helpers.js';

const A = siteOf(1);
const B = siteOf(2);
const T0 = 1_700_000_000_000;

const facts = (cs: ChangeSet): (Change | SchemaMigration)[] => [...cs.schemaMigrations, ...cs.changes];

/** Merging a set whose every fact is held must leave the replica exactly as it was. */
async function expectNoEffect(r: Replica, cs: ChangeSet): Promise<void> {
  const before = await dump(r);
  expect(r.applyChanges([cs])).toMatchObject({ applied: 0 });
  expect(await dump(r)).toEqual(before);
}

describe.each(FACTORIES)('Replica.holds on the %s store', (_name, make) => {
  const { f, clock } = perTestReplicas(make, T0 + 10_000);

  it('holds what it stored and anything older, not what is newer or absent', async () => {
    const r = f.open({ now: clock.now });
    const stored = tx(A, T0, 0, createTable('notes'), col('notes', [1], 'title', 'a'), del('notes', [2]));
    expect(facts(stored).map((x) => r.holds(x))).toEqual([false, false, false]);
    r.applyChanges([stored]);
    expect(facts(stored).map((x) => r.holds(x))).toEqual([true, true, true]);
    await expectNoEffect(r, stored);

    const older = tx(B, T0 - 1, 0, createTable('notes'), col('notes', [1], 'title', 'old'), del('notes', [2]));
    expect(facts(older).map((x) => r.holds(x))).toEqual([true, true, true]);
    await expectNoEffect(r, older);

    const newer = tx(B, T0 + 1, 0, createTable('notes'), col('notes', [1], 'title', 'new'), del('notes', [2]));
    expect(facts(newer).map((x) => r.holds(x))).toEqual([false, false, false]);
    const elsewhere = tx(A, T0, 0, createTable('notes', 2), col('notes', [1], 'body', 'x'), del('notes', [3]));
    expect(facts(elsewhere).map((x) => r.holds(x))).toEqual([false, false, false]);
  });

  it('counts a column write blocked by the row tombstone as held, unless resurrection lets it through', async () => {
    const r = f.open({ now: clock.now });
    r.applyChanges([tx(A, T0, 0, del('t', [1]))]);
    const later = tx(B, T0 + 5, 0, col('t', [1], 'c', 'x'));
    expect(r.holds(later.changes[0]!)).toBe(true);
    await expectNoEffect(r, later);

    const revivable = f.open({ now: clock.now, allowResurrection: true });
    revivable.applyChanges([tx(A, T0, 0, del('t', [1]))]);
    expect(revivable.holds(tx(B, T0 - 5, 0, col('t', [1], 'c', 'old')).changes[0]!)).toBe(true);
    expect(revivable.holds(later.changes[0]!)).toBe(false);
  });

  it('does not hold a fact that repeats a stored HLC with other content (a forgery, not a re-push)', async () => {
    const r = f.open({ now: clock.now });
    const stored = tx(A, T0, 0, createTable('notes'), col('notes', [1], 'title', 'a'), del('notes', [2]));
    r.applyChanges([stored]);
    const [migration, write, tomb] = facts(stored) as [SchemaMigration, ColumnChange, DeleteChange];
    const forged: (Change | SchemaMigration)[] = [
      { ...write, value: 'forged' },
      { ...write, column: 'body' },
      { ...write, pk: [3] },
      { ...write, table: 'other' },
      { ...write, schema: 'aux' },
      // A column write carrying the HLC of the row's tombstone (which alone would block it).
      { ...write, pk: [2], hlc: tomb.hlc },
      { ...tomb, pk: [1] },
      { ...tomb, pk: [1], hlc: write.hlc },
      { ...migration, ddl: 'create table notes (id integer primary key, evil text)' },
      { ...migration, type: 'rename_table', fromTable: 'x' },
    ];
    expect(forged.map((x) => r.holds(x))).toEqual(forged.map(() => false));
    // The exact fact stays held, also when its values take another spelling of the same value.
    const n = f.open({ now: clock.now });
    n.applyChanges([tx(A, T0, 0, col('t', [1], 'n', 5), col('t', [1], 'b', new Uint8Array([1, 2])))]);
    const again = tx(A, T0, 0, col('t', [1n], 'n', 5n), col('t', [1], 'b', new Uint8Array([1, 2])));
    expect(again.changes.map((x) => n.holds(x))).toEqual([true, true]);
    expect(n.holds(tx(A, T0, 0, col('t', [1], 'n', 6)).changes[0]!)).toBe(false);
  });

  it('reads without writing', async () => {
    const r = f.open({ now: clock.now });
    r.applyChanges([tx(A, T0, 0, col('t', [1], 'c', 'x'))]);
    const before = await dump(r);
    r.holds(tx(B, T0 + 1, 0, col('t', [1], 'c', 'y')).changes[0]!);
    expect(await dump(r)).toEqual(before);
  });
});
