// End to end: declarations from several replicas of one table. Two replicas adding different
// columns both keep them everywhere (a new version never reuses one a peer holds), and a column
// named __proto__ is an ordinary column in every row object handed to the app.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DatabaseChange, TableDefinition } from '@syncord/client';
import { dump, Harness, NOTES } from './harness.js';
import { waitFor, within } from './helpers.js';

describe('table declarations across replicas', () => {
  let h: Harness;
  beforeEach(() => {
    h = new Harness();
  });
  afterEach(() => h.dispose());

  const ddlOf = async (db: { migrations(): Promise<{ ddl: string }[]> }): Promise<string[]> =>
    (await db.migrations()).map((m) => m.ddl).sort();

  it('two replicas adding different columns to one table both keep theirs, everywhere', async () => {
    const coord = await h.coordinator();
    const a = h.memoryDb();
    const b = h.memoryDb();
    a.declareTable('notes', NOTES);
    b.declareTable('notes', NOTES);
    const ca = h.client(a);
    const cb = h.client(b);
    await h.connectAll(coord.url, 'db', ca, cb);

    a.declareTable('notes', { ...NOTES, columns: { ...NOTES.columns, priority: 'integer' } });
    await waitFor(async () => (await ddlOf(b)).some((d) => d.includes('"priority"')), { what: "A's column at B" });
    b.declareTable('notes', { ...NOTES, columns: { ...NOTES.columns, tag: 'text' } });
    a.put('notes', { id: 1, title: 'a', priority: 3 });
    b.put('notes', { id: 2, title: 'b', tag: 'home' });
    await waitFor(() => dump(a) === dump(b) && a.list('notes').length === 2, { what: 'convergence' });
    await Promise.all([ca.whenSynced(), cb.whenSynced()]);

    const c = h.memoryDb();
    const cc = h.client(c);
    await cc.connect(coord.url, 'db');
    await within(cc.whenSynced(), 5000, 'C synced');
    const added = (await ddlOf(c)).filter((d) => d.includes('add column'));
    expect(added).toEqual([
      'alter table "notes" add column "priority" integer',
      'alter table "notes" add column "tag" text',
    ]);
    expect(await ddlOf(a)).toEqual(await ddlOf(c));
    expect(await ddlOf(b)).toEqual(await ddlOf(c));
    expect(h.errors).toEqual([]);
  });

  it('a column named __proto__ round-trips as an ordinary column of prototype-free rows', async () => {
    const coord = await h.coordinator();
    const odd: TableDefinition = {
      columns: Object.fromEntries([
        ['id', 'integer'],
        ['__proto__', 'json'],
        ['constructor', 'text'],
      ]) as TableDefinition['columns'],
      primaryKey: ['id'],
    };
    const a = h.memoryDb();
    const b = h.memoryDb();
    a.declareTable('odd', odd);
    const ca = h.client(a);
    const cb = h.client(b);
    await ca.connect(coord.url, 'db');
    await cb.connect(coord.url, 'db');
    const events: DatabaseChange[] = [];
    b.subscribe((e) => events.push(e));

    a.put(
      'odd',
      Object.fromEntries([
        ['id', 1],
        ['__proto__', { polluted: true }],
        ['constructor', 'x'],
      ]),
    );
    await waitFor(() => b.get('odd', 1) !== undefined, { what: 'the row at B' });
    for (const row of [a.get('odd', 1)!, b.get('odd', 1)!, b.list('odd')[0]!, b.entries('odd')[0]!.row]) {
      expect(Object.getPrototypeOf(row)).toBeNull();
      expect(Object.keys(row).sort()).toEqual(['__proto__', 'constructor', 'id']);
      expect(row['__proto__']).toEqual({ polluted: true });
      expect((row as { polluted?: unknown }).polluted).toBeUndefined();
    }
    expect(b.list('odd', { where: { constructor: 'x' } })).toHaveLength(1);
    expect(events.flatMap((e) => e.rows.flatMap((r) => r.columns)).sort()).toEqual(['__proto__', 'constructor', 'id']);
    expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
  });
});
