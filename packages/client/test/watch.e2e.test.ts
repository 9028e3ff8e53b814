// Live queries driven by sync, against a real coordinator on 127.0.0.1: a remote transaction is
// one callback, and a snapshot bootstrap refreshes a query made before it.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Harness } from './harness.js';
import { waitFor } from './helpers.js';

const TODOS = { columns: { id: 'integer', title: 'text', done: 'integer' }, primaryKey: ['id'] } as const;

describe('watch against the coordinator', () => {
  let h: Harness;
  beforeEach(() => {
    h = new Harness();
  });
  afterEach(() => h.dispose());

  it('a remote transaction of many rows reaches a watcher as one callback with the current rows', async () => {
    const coord = await h.coordinator();
    const a = h.memoryDb();
    const b = h.memoryDb();
    const aTodos = a.declareTable('todos', TODOS);
    const bTodos = b.declareTable('todos', TODOS);
    const ca = h.client(a);
    const cb = h.client(b);
    await h.connectAll(coord.url, 'acme:todos', ca, cb);

    const seen: number[][] = [];
    const stop = bTodos.watch({ where: { done: 0 }, orderBy: { column: 'id', direction: 'desc' }, limit: 3 }, (rows) =>
      seen.push(rows.map((r) => Number(r.id))),
    );
    expect(seen).toEqual([[]]);
    a.transaction((tx) => {
      for (let id = 1; id <= 50; id++) tx.put(aTodos, { id, title: `t${id}`, done: false });
    });
    await waitFor(() => seen.length > 1, { what: 'the watcher to see the remote transaction' });
    await ca.whenSynced();
    await waitFor(() => bTodos.list().length === 50, { what: 'B to hold every row' });
    expect(seen).toEqual([[], [50, 49, 48]]);

    aTodos.put({ id: 49, done: true });
    await waitFor(() => seen.length > 2, { what: 'the watcher to see the remote update' });
    expect(seen.at(-1)).toEqual([50, 48, 47]);
    stop();
    expect(h.errors).toEqual([]);
  });

  it('a query watched before a snapshot bootstrap is refreshed by it', async () => {
    const coord = await h.coordinator();
    const a = h.memoryDb();
    const aTodos = a.declareTable('todos', TODOS);
    const ca = h.client(a);
    await ca.connect(coord.url, 'acme:todos');
    for (let id = 1; id <= 5; id++) aTodos.put({ id, title: `t${id}`, done: 0 });
    await ca.whenSynced();

    const b = h.memoryDb();
    const bTodos = b.declareTable('todos', TODOS);
    const seen: number[] = [];
    bTodos.watch({}, (rows) => seen.push(rows.length));
    const cb = h.client(b);
    await cb.connect(coord.url, 'acme:todos');
    await cb.whenSynced();
    expect(h.opsOf(b)).toContain('get_snapshot');
    expect(seen[0]).toBe(0);
    expect(seen.at(-1)).toBe(5);
  });
});
