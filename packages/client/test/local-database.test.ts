import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openMemoryReplica, type ChangeSet } from '@syncord/core';
import { LocalDatabase, SchemaError, type DatabaseChange } from '@syncord/client';
import { openSqliteDatabase } from '../src/sqlite.js';
import { tempDir } from './helpers.js';

const NOTES = { columns: { id: 'integer', title: 'text', body: 'text', done: 'integer' }, primaryKey: ['id'] } as const;

describe('LocalDatabase', () => {
  const open: LocalDatabase[] = [];
  const dirs: { remove(): void }[] = [];
  afterEach(() => {
    for (const db of open.splice(0)) db.close();
    for (const d of dirs.splice(0)) d.remove();
  });
  function memory(): LocalDatabase {
    const db = LocalDatabase.open();
    open.push(db);
    return db;
  }

  it('declaring a table commits one create_table migration with SQL DDL, once', async () => {
    const db = memory();
    const events: DatabaseChange[] = [];
    db.subscribe((e) => events.push(e));
    db.declareTable('notes', NOTES);
    db.declareTable('notes', NOTES);
    const migrations = await db.migrations();
    expect(migrations).toHaveLength(1);
    expect(migrations[0]).toMatchObject({
      type: 'create_table',
      schema: 'main',
      table: 'notes',
      schemaVersion: 1,
      ddl: 'create table "notes" ("id" integer, "title" text, "body" text, "done" integer, primary key ("id"))',
    });
    expect(events).toHaveLength(1);
    expect(events[0]!.migrations).toHaveLength(1);
  });

  it('a new column becomes an add_column migration; a changed key or type is refused', async () => {
    const db = memory();
    db.declareTable('notes', NOTES);
    db.declareTable('notes', { columns: { ...NOTES.columns, tags: 'json' }, primaryKey: ['id'] });
    const migrations = await db.migrations();
    expect(migrations.map((m) => [m.type, m.schemaVersion, m.ddl])).toEqual([
      ['create_table', 1, expect.any(String)],
      ['add_column', 2, 'alter table "notes" add column "tags" json'],
    ]);
    expect(() => db.declareTable('notes', { columns: NOTES.columns, primaryKey: ['title'] })).toThrow(SchemaError);
    expect(() =>
      db.declareTable('notes', { columns: { ...NOTES.columns, title: 'blob' }, primaryKey: ['id'] }),
    ).toThrow(/cannot change type/);
    expect(await db.migrations()).toHaveLength(2);
  });

  it('puts whole and partial rows, reads by key, lists with equality filters, deletes', () => {
    const db = memory();
    db.declareTable('notes', NOTES);
    db.put('notes', { id: 1, title: 'a', body: 'x', done: 0 });
    db.put('notes', { id: 2, title: 'b' });
    db.put('notes', { id: 1, done: 1 });
    expect(db.get('notes', 1)).toEqual({ id: 1, title: 'a', body: 'x', done: 1 });
    expect(db.get('notes', [2])).toEqual({ id: 2, title: 'b', body: null, done: null });
    expect(db.get('notes', 3)).toBeUndefined();
    expect(db.list('notes').map((r) => r['id'])).toEqual([1, 2]);
    expect(db.list('notes', { where: { done: 1 } }).map((r) => r['id'])).toEqual([1]);
    expect(db.list('notes', { where: { done: 1n } }).map((r) => r['id'])).toEqual([1]);
    expect(db.list('notes', { where: { title: 'zzz' } })).toEqual([]);
    db.delete('notes', 1);
    expect(db.get('notes', 1)).toBeUndefined();
    expect(db.entries('notes')).toEqual([{ key: [2], row: { id: 2, title: 'b', body: null, done: null } }]);
  });

  it('a transaction is one change set with one HLC tick and opSeq per fact; an update writes only its columns', () => {
    const db = memory();
    db.declareTable('notes', NOTES);
    const cs = db.transaction((tx) => {
      tx.put('notes', { id: 1, title: 'a' });
      tx.put('notes', { id: 2, title: 'b' });
      tx.put('notes', { id: 1, title: 'a2' });
    })!;
    expect(cs.changes.map((c) => c.hlc.opSeq)).toEqual([0, 1, 2, 3]);
    expect(new Set(cs.changes.map((c) => `${c.hlc.wallTime}:${c.hlc.counter}`)).size).toBe(1);
    // Later write to the same cell replaces the earlier one; pk columns written once for new rows.
    expect(cs.changes.map((c) => (c.type === 'column' ? `${String(c.pk[0])}.${c.column}` : 'del'))).toEqual([
      '1.id',
      '2.id',
      '2.title',
      '1.title',
    ]);
    const update = db.put('notes', { id: 1, done: 1 });
    expect(update.changes.map((c) => (c.type === 'column' ? c.column : 'del'))).toEqual(['done']);
    expect(db.transaction(() => {})).toBeUndefined();
  });

  it('bad input gets a clear error and stores nothing', () => {
    const db = memory();
    db.declareTable('notes', NOTES);
    const bad: [string, () => unknown, RegExp][] = [
      ['undeclared table', () => db.put('other', { id: 1 }), /not declared/],
      ['unknown column', () => db.put('notes', { id: 1, nope: 1 }), /unknown column nope/],
      ['wrong type', () => db.put('notes', { id: 1, title: 5 }), /not a valid text/],
      ['missing key', () => db.put('notes', { title: 'x' }), /primary key/],
      ['null key', () => db.put('notes', { id: null, title: 'x' }), /primary key/],
      ['fractional integer', () => db.put('notes', { id: 1.5 }), /not a valid integer/],
      ['key arity', () => db.delete('notes', [1, 2]), /1 column/],
      ['no columns', () => db.declareTable('t', { columns: {}, primaryKey: ['id'] }), /at least one column/],
      ['bad key column', () => db.declareTable('t', { columns: { a: 'text' }, primaryKey: ['b'] }), /not a column/],
      [
        'bad type',
        () => db.declareTable('t', { columns: { a: 'string' as 'text' }, primaryKey: ['a'] }),
        /unknown type/,
      ],
    ];
    for (const [what, fn, message] of bad) expect(fn, what).toThrow(message);
    // A failing write inside a transaction aborts the whole transaction.
    expect(() =>
      db.transaction((tx) => {
        tx.put('notes', { id: 7, title: 'kept?' });
        tx.put('notes', { id: 8, title: 8 });
      }),
    ).toThrow(SchemaError);
    expect(() =>
      db.transaction((tx) => {
        tx.put('notes', { id: 9, title: 'kept?' });
        throw new Error('app changed its mind');
      }),
    ).toThrow('app changed its mind');
    expect(db.list('notes')).toEqual([]);
  });

  it('tells subscribers which rows changed, locally and remotely', () => {
    const a = memory();
    const b = memory();
    a.declareTable('notes', NOTES);
    const seen: DatabaseChange[] = [];
    b.subscribe((e) => seen.push(e));
    const sets: ChangeSet[] = [a.put('notes', { id: 1, title: 'x' })];
    sets.push(a.transaction((tx) => tx.put('notes', { id: 2, title: 'y' }).delete('notes', 1))!);
    b.applyRemote(sets);
    expect(seen).toHaveLength(1);
    expect(seen[0]!.source).toBe('remote');
    expect(seen[0]!.rows).toEqual([
      { schema: 'main', table: 'notes', key: [1], op: 'delete', columns: [] },
      { schema: 'main', table: 'notes', key: [2], op: 'put', columns: ['id', 'title'] },
    ]);
    const local: DatabaseChange[] = [];
    a.subscribe((e) => local.push(e));
    a.put('notes', { id: 3, title: 'z' });
    expect(local.map((e) => [e.source, e.rows.map((r) => r.key)])).toEqual([['local', [[3]]]]);
  });

  it('keeps rows of tables it never declared, and exposes the migrations peers sent', async () => {
    const peer = memory();
    peer.declareTable('tags', { columns: { name: 'text', color: 'text' }, primaryKey: ['name'] });
    peer.put('tags', { name: 'urgent', color: 'red' });
    const db = memory();
    db.applyRemote(peer.replica.getChangesSince(db.siteId));
    expect(db.tableDefinition('tags')).toBeUndefined();
    expect(db.get('tags', 'urgent')).toEqual({ name: 'urgent', color: 'red' });
    expect(db.list('tags')).toHaveLength(1);
    expect((await db.migrations()).map((m) => [m.type, m.table])).toEqual([['create_table', 'tags']]);
    // Declaring it later adopts the peer's table instead of creating it a second time.
    db.declareTable('tags', { columns: { name: 'text', color: 'text' }, primaryKey: ['name'] });
    expect(await db.migrations()).toHaveLength(1);
  });

  it('a SQLite database keeps rows, declarations and its site id across a restart', () => {
    const dir = tempDir();
    dirs.push(dir);
    const file = join(dir.path, 'app.db');
    const first = openSqliteDatabase(file);
    first.declareTable('notes', NOTES);
    first.declareTable('files', { columns: { id: 'integer', size: 'integer', data: 'blob' }, primaryKey: ['id'] });
    first.put('notes', { id: 1, title: 'persisted' });
    first.put('files', { id: 1, size: 2n ** 62n, data: new Uint8Array([1, 2]) });
    const site = first.siteId;
    first.close();
    const second = openSqliteDatabase(file);
    open.push(second);
    expect(second.siteId).toEqual(site);
    expect(second.tableDefinition('notes')).toEqual(NOTES);
    expect(second.get('notes', 1)).toMatchObject({ id: 1, title: 'persisted' });
    expect(second.get('files', 1)).toEqual({ id: 1, size: 2n ** 62n, data: new Uint8Array([1, 2]) });
    second.put('notes', { id: 2, title: 'after restart' });
    expect(second.list('notes')).toHaveLength(2);
  });

  it('uses any Replica it is given (storage is pluggable)', () => {
    const replica = openMemoryReplica();
    const db = LocalDatabase.open({ replica });
    open.push(db);
    expect(db.replica).toBe(replica);
    expect(db.siteId).toEqual(replica.siteId);
  });
});
