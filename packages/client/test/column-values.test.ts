import { afterEach, describe, expect, it } from 'vitest';
import { LocalDatabase, SchemaError } from '@syncord/client';

const TODOS = {
  columns: { id: 'text', title: 'text', due: 'any', meta: 'json', done: 'integer', score: 'real', raw: 'blob' },
  primaryKey: ['id'],
} as const;

describe('column values', () => {
  const open: LocalDatabase[] = [];
  afterEach(() => {
    for (const db of open.splice(0)) db.close();
  });
  function todos(): LocalDatabase {
    const db = LocalDatabase.open();
    open.push(db);
    db.declareTable('todos', TODOS);
    return db;
  }

  it('a value that is not a SQL value is refused naming the table and column, with what to store', () => {
    const db = todos();
    class Point {
      x = 1;
    }
    const bad: [string, unknown, string][] = [
      ['due', new Date(0), 'todos.due: a Date is not a SQL value; store an ISO string or a number'],
      ['meta', new Date(0), 'todos.meta: a Date is not a SQL value; store an ISO string or a number'],
      ['title', new Date(0), 'todos.title: a Date is not a SQL value; store an ISO string or a number'],
      ['meta', { when: new Date(0) }, 'todos.meta.when: a Date is not a JSON value; store an ISO string or a number'],
      ['meta', [1, { n: NaN }], 'todos.meta[1].n: NaN is not a SQL value; store null or a finite number'],
      ['meta', { a: undefined }, 'todos.meta.a: undefined is not a JSON value (use null or leave it out)'],
      ['meta', [1n], 'todos.meta[0]: a bigint is not a JSON value; store it as a string or a number'],
      ['meta', new Map(), 'todos.meta: a Map is not a SQL value; store a plain object or an array (in a json column)'],
      [
        'due',
        new Point(),
        'todos.due: a Point is not a SQL value; store a plain object or an array (in a json column)',
      ],
      ['score', NaN, 'todos.score: NaN is not a SQL value; store null or a finite number'],
      ['score', Infinity, 'todos.score: Infinity is not a SQL value; store null or a finite number'],
      ['due', Symbol('s'), 'todos.due: a symbol is not a SQL value'],
      ['due', () => 1, 'todos.due: a function is not a SQL value'],
      ['raw', 'text', 'todos.raw: a string is not a valid blob value'],
      ['done', 1.5, 'todos.done: number 1.5 is not a valid integer value'],
    ];
    for (const [column, value, message] of bad) {
      const write = (): unknown => db.put('todos', { id: 'a', [column]: value as never });
      expect(write, `${column} = ${String(value)}`).toThrow(SchemaError);
      expect(write, `${column} = ${String(value)}`).toThrow(message);
    }
    expect(db.list('todos')).toEqual([]);
  });

  it('a boolean in an integer column is stored as 0/1; in json and any columns it stays a boolean', () => {
    const db = todos();
    db.put('todos', { id: 'a', done: true, meta: { ok: false }, due: true });
    db.put('todos', { id: 'b', done: false });
    expect(db.get('todos', 'a')).toMatchObject({ done: 1, meta: { ok: false }, due: true });
    expect(db.get('todos', 'b')).toMatchObject({ done: 0 });
    expect(db.list('todos', { where: { done: 1 } }).map((r) => r['id'])).toEqual(['a']);
    // The stored cell, as a peer receives it, is the integer.
    const cell = [...db.replica.listRows('main', 'todos')][0]!.columns.get('done');
    expect(cell).toBe(1);
    expect(() => db.put('todos', { id: 'c', score: true })).toThrow(
      'todos.score: boolean true is not a valid real value',
    );
  });

  it('blobs, bigints and nested JSON are accepted where the column takes them', () => {
    const db = todos();
    db.put('todos', {
      id: 'a',
      raw: new Uint8Array([1, 2]),
      done: 2n ** 70n,
      score: 1.5,
      meta: { tags: ['x', { y: null }] },
    });
    expect(db.get('todos', 'a')).toMatchObject({
      raw: new Uint8Array([1, 2]),
      done: 2n ** 70n,
      meta: { tags: ['x', { y: null }] },
    });
  });
});
