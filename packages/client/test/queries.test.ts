// Reads with order and window, rows typed from the declaration, and live queries on local writes.
import { afterEach, describe, expect, expectTypeOf, it } from 'vitest';
import { LocalDatabase, SchemaError, type Row } from '@syncord/client';

const TODOS = {
  columns: { id: 'text', title: 'text', due: 'integer', score: 'real', tags: 'json', raw: 'blob' },
  primaryKey: ['id'],
} as const;

describe('queries', () => {
  const open: LocalDatabase[] = [];
  afterEach(() => {
    for (const db of open.splice(0)) db.close();
  });
  function memory(): LocalDatabase {
    const db = LocalDatabase.open();
    open.push(db);
    return db;
  }

  it('list orders by columns in SQL order (null first, numbers by value, then text), with offset and limit', () => {
    const db = memory();
    const todos = db.declareTable('todos', TODOS);
    todos.put({ id: 'a', title: 'milk', due: 3 });
    todos.put({ id: 'b', title: 'bread', due: 10n });
    todos.put({ id: 'c', title: 'eggs' });
    todos.put({ id: 'd', title: 'apples', due: 3 });
    todos.put({ id: 'e', title: 'Zucchini', due: -1 });
    const ids = (rows: readonly { id: string }[]): string[] => rows.map((r) => r.id);
    expect(ids(todos.list({ orderBy: 'due' }))).toEqual(['c', 'e', 'a', 'd', 'b']);
    expect(ids(todos.list({ orderBy: { column: 'due', direction: 'desc' } }))).toEqual(['b', 'a', 'd', 'e', 'c']);
    expect(ids(todos.list({ orderBy: ['due', { column: 'title', direction: 'desc' }] }))).toEqual([
      'c',
      'e',
      'a',
      'd',
      'b',
    ]);
    expect(ids(todos.list({ orderBy: 'title' }))).toEqual(['e', 'd', 'b', 'c', 'a']);
    expect(ids(todos.list({ orderBy: 'due', offset: 1, limit: 2 }))).toEqual(['e', 'a']);
    expect(ids(todos.list({ where: { due: 3 }, orderBy: 'title' }))).toEqual(['d', 'a']);
    expect(ids(todos.list({ limit: 0 }))).toEqual([]);
    expect(ids(todos.list({ offset: 9 }))).toEqual([]);
    // The untyped calls take the same options.
    expect(db.list('todos', { orderBy: 'due', limit: 1 }).map((r) => r['id'])).toEqual(['c']);
    expect(db.entries('todos', { orderBy: 'title', limit: 1 })).toEqual([
      { key: ['e'], row: expect.objectContaining({ id: 'e' }) },
    ]);
  });

  it('a bad window or order column is a SchemaError', () => {
    const db = memory();
    db.declareTable('todos', TODOS);
    expect(() => db.list('todos', { limit: -1 })).toThrow(/limit must be a non-negative integer/);
    expect(() => db.list('todos', { offset: 1.5 })).toThrow(/offset must be a non-negative integer/);
    expect(() => db.list('todos', { orderBy: 'nope' })).toThrow(SchemaError);
    expect(() => db.watch('todos', { orderBy: 'nope' }, () => {})).toThrow(/unknown orderBy column nope/);
  });

  it('rows, keys and writes are typed from the declaration', () => {
    const db = memory();
    const todos = db.declareTable('todos', TODOS);
    const pairs = db.declareTable('pairs', { columns: { a: 'integer', b: 'text', n: 'any' }, primaryKey: ['a', 'b'] });
    todos.put({ id: 'x', title: 't', due: true, tags: ['a'], raw: new Uint8Array([1]) });
    pairs.put({ a: 1, b: 'one' });
    const row = todos.get('x')!;
    expectTypeOf(row.id).toEqualTypeOf<string>();
    expectTypeOf(row.title).toEqualTypeOf<string | null>();
    expectTypeOf(row.due).toEqualTypeOf<number | bigint | null>();
    expect(row).toEqual({ id: 'x', title: 't', due: 1, score: null, tags: ['a'], raw: new Uint8Array([1]) });
    expect(pairs.get([1, 'one'])).toEqual({ a: 1, b: 'one', n: null });
    db.transaction((tx) => {
      tx.put(todos, { id: 'y', score: 2.5 });
      tx.delete(pairs, [1, 'one']);
    });
    expect(todos.get(['y'])?.score).toBe(2.5);
    expect(pairs.list()).toEqual([]);
    // Compile-time only: these lines must not type-check.
    const typeErrors = (): void => {
      // @ts-expect-error title is text
      todos.put({ id: 'z', title: 5 });
      // @ts-expect-error the key column is required
      todos.put({ title: 'no key' });
      // @ts-expect-error unknown column
      todos.put({ id: 'z', nope: 1 });
      // @ts-expect-error a two-column key needs both values
      pairs.get(1);
      // @ts-expect-error unknown orderBy column
      todos.list({ orderBy: 'nope' });
      // @ts-expect-error where values are typed too
      todos.list({ where: { due: 'soon' } });
      // @ts-expect-error tx.put with a handle is typed
      db.transaction((tx) => tx.put(todos, { id: 'z', due: 'x' }));
    };
    expect(typeErrors).toBeTypeOf('function');
    // Untyped access keeps working for any table.
    const untyped: Row | undefined = db.get('todos', 'x');
    expect(untyped?.['title']).toBe('t');
  });

  it('watch calls back at once and once per transaction that changes the result, not for other tables', () => {
    const db = memory();
    const todos = db.declareTable('todos', TODOS);
    db.declareTable('other', { columns: { id: 'text' }, primaryKey: ['id'] });
    const seen: string[][] = [];
    const stop = todos.watch({ where: { due: 1 }, orderBy: 'title' }, (rows) => seen.push(rows.map((r) => r.id)));
    expect(seen).toEqual([[]]);
    db.transaction((tx) => {
      for (const id of ['b', 'a', 'c']) tx.put(todos, { id, title: id, due: 1 });
    });
    expect(seen).toEqual([[], ['a', 'b', 'c']]);
    db.put('other', { id: 'x' }); // another table
    todos.put({ id: 'z', title: 'z', due: 2 }); // this table, outside the filter
    todos.put({ id: 'a', title: 'a', due: 1 }); // the same values again
    expect(seen).toHaveLength(2);
    todos.put({ id: 'b', due: 2 });
    expect(seen).toEqual([[], ['a', 'b', 'c'], ['a', 'c']]);
    todos.put({ id: 'a', title: 'A' }); // a value change without a membership change
    expect(seen.at(-1)).toEqual(['a', 'c']);
    expect(seen).toHaveLength(4);
    stop();
    todos.delete('a');
    expect(seen).toHaveLength(4);
  });
});
