// The replica an app embeds: declared tables, reads, transactional writes and change events, over
// the one merge engine of @syncord/core. Storage is whatever Replica it is given (memory by
// default; a SQLite file through @syncord/client/sqlite), so this file stays browser-safe.
import {
  openMemoryReplica,
  type ApplyResult,
  type ChangeSet,
  type LocalChange,
  type LocalMigration,
  type Replica,
  type SchemaMigration,
  type SnapshotApplyOptions,
  type SnapshotCheckpoint,
  type SnapshotChunk,
  type SqlValue,
} from '@syncord/core';
import { describeChangeSets, type ChangeListener, type DatabaseChange } from './change-events.js';
import { Declarations } from './declarations.js';
import { checkQuery, runQuery, type QueryOptions } from './query.js';
import { keyValues, type KeyInput } from './row-key.js';
import { Table } from './table.js';
import { checkName, DEFAULT_SCHEMA, type TableDefinition } from './table-definition.js';
import { Transaction, type Row, type TableOptions } from './transaction.js';
import { watchRows } from './watch.js';
import { Emitter } from '../util/emitter.js';

export interface LocalDatabaseOptions {
  /** The storage: `openMemoryReplica()` (the default) or `openSqliteReplica(path)` in Node. */
  readonly replica?: Replica;
  /**
   * For storage that saves after the commit (the browser's IndexedDB): resolves once every commit
   * made so far is saved, rejects when saving failed. Without it commits are saved when made.
   */
  readonly whenSaved?: () => Promise<void>;
}

/** A read of an untyped table: `where`, `orderBy`, `limit`, `offset` (see QueryOptions). */
export interface ListOptions extends TableOptions, QueryOptions {}

export interface RowEntry {
  /** Primary key values in key order. */
  readonly key: readonly SqlValue[];
  readonly row: Row;
}

interface DatabaseEvents {
  change: DatabaseChange;
}

export class LocalDatabase {
  /** The merge engine underneath; SyncClient drives it, apps rarely need it. */
  readonly replica: Replica;
  private readonly declarations: Declarations;
  private readonly events = new Emitter<DatabaseEvents>();
  private readonly saved: () => Promise<void>;
  private closed = false;

  private constructor(replica: Replica, whenSaved: (() => Promise<void>) | undefined) {
    this.replica = replica;
    this.declarations = new Declarations(replica);
    this.saved = whenSaved ?? (() => Promise.resolve());
  }

  static open(options: LocalDatabaseOptions = {}): LocalDatabase {
    return new LocalDatabase(options.replica ?? openMemoryReplica(), options.whenSaved);
  }

  /**
   * Resolves once every write made so far is in the replica's storage (at once for memory and
   * SQLite, which save as they commit); rejects when the storage failed to save. SyncClient waits
   * for it before pushing, so the server never holds a write this replica could lose.
   */
  whenSaved(): Promise<void> {
    return this.saved();
  }

  get siteId(): Uint8Array {
    return this.replica.siteId;
  }

  /**
   * Declares a table. The first declaration is committed as a `create_table` migration carrying
   * SQL DDL; declaring it again with new columns adds `add_column` migrations; the same
   * declaration again (every app start) records nothing. Changing the primary key is refused.
   * Returns the table as a handle whose rows are typed from the declaration.
   */
  declareTable<const D extends TableDefinition>(table: string, definition: D, options: TableOptions = {}): Table<D> {
    this.assertOpen();
    const schema = checkName(options.schema ?? DEFAULT_SCHEMA, 'schema');
    checkName(table, 'table');
    this.declarations.declare(schema, table, definition, (migrations) => this.commit([], migrations));
    return new Table(this, table, schema, definition);
  }

  /** The declaration of a table, if this app declared it. */
  tableDefinition(table: string, options: TableOptions = {}): TableDefinition | undefined {
    return this.declarations.get(options.schema ?? DEFAULT_SCHEMA, table);
  }

  /**
   * Every schema migration the replica holds (this app's declarations and peers' DDL), by HLC.
   * Read through the engine's snapshot stream, stopping after its migration chunks.
   */
  async migrations(): Promise<SchemaMigration[]> {
    this.assertOpen();
    const out: SchemaMigration[] = [];
    for await (const chunk of this.replica.snapshot()) {
      if (chunk.type === 'schema-migration') out.push(chunk.migration);
      else if (chunk.type !== 'header') break;
    }
    return out;
  }

  /** The row with this primary key, or undefined. Declared columns with no value read as null. */
  get(table: string, key: KeyInput, options: TableOptions = {}): Row | undefined {
    this.assertOpen();
    const schema = options.schema ?? DEFAULT_SCHEMA;
    const def = this.declarations.get(schema, table);
    const pk = keyValues(key, def?.primaryKey.length, `get ${table}`);
    const cells = this.replica.readRow(schema, table, pk);
    return cells && this.toRow(cells, def);
  }

  /** Rows of a table (declared or not: rows written by peers to undeclared tables are kept). */
  list(table: string, options: ListOptions = {}): Row[] {
    return this.entries(table, options).map((e) => e.row);
  }

  /** Like list, with each row's primary key. */
  entries(table: string, options: ListOptions = {}): RowEntry[] {
    this.assertOpen();
    const schema = options.schema ?? DEFAULT_SCHEMA;
    const def = this.declarations.get(schema, table);
    checkQuery(table, def, options);
    const all: RowEntry[] = [];
    for (const { pk, columns } of this.replica.listRows(schema, table))
      all.push({ key: pk, row: this.toRow(columns, def) });
    return runQuery(all, options);
  }

  /**
   * A live query: calls `listener` with `list(table, options)` now, then after every local
   * write, remote apply or snapshot that touches the table and changes that result (once per
   * transaction or applied batch). Returns the function that stops it.
   */
  watch(table: string, options: ListOptions, listener: (rows: Row[]) => void): () => void {
    this.assertOpen();
    const schema = options.schema ?? DEFAULT_SCHEMA;
    checkQuery(table, this.declarations.get(schema, table), options);
    const read = (): RowEntry[] => this.entries(table, options);
    return watchRows({ schema, table, read, subscribe: (l) => this.subscribe(l) }, listener);
  }

  /**
   * Runs `fn` and commits its writes as one transaction (one ChangeSet, one HLC tick). If `fn`
   * throws, or a write is invalid, nothing is stored. Returns the ChangeSet, or undefined when
   * `fn` wrote nothing. `fn` must be synchronous.
   */
  transaction(fn: (tx: Transaction) => void): ChangeSet | undefined {
    this.assertOpen();
    const tx = new Transaction({
      definition: (schema, table) => this.declarations.get(schema, table),
      rowExists: (schema, table, pk) => this.replica.readRow(schema, table, pk) !== undefined,
    });
    const result: unknown = fn(tx);
    if (result instanceof Promise) throw new TypeError('transaction(fn): fn must be synchronous');
    const changes = tx.changes();
    return changes.length === 0 ? undefined : this.commit(changes, []);
  }

  /** One-write transaction: writes the given columns of a row (partial rows update only those). */
  put(table: string, row: Row, options: TableOptions = {}): ChangeSet {
    return this.transaction((tx) => tx.put(table, row, options))!;
  }

  /** One-write transaction deleting a row by primary key. */
  delete(table: string, key: KeyInput, options: TableOptions = {}): ChangeSet {
    return this.transaction((tx) => tx.delete(table, key, options))!;
  }

  /** Calls `listener` after every local commit, remote apply and snapshot. Returns unsubscribe. */
  subscribe(listener: ChangeListener): () => void {
    return this.events.on('change', listener);
  }

  /** Merges change sets from a peer or server (idempotent) and tells subscribers. */
  applyRemote(changeSets: readonly ChangeSet[]): ApplyResult {
    this.assertOpen();
    const result = this.replica.applyChanges(changeSets);
    if (changeSets.length > 0) this.events.emit('change', describeChangeSets('remote', changeSets));
    return result;
  }

  /**
   * Replaces the replica's synced state with a snapshot stream. The engine clears the replica at
   * the header; local writes committed after this call and before that clear would be wiped, so
   * they are re-committed right after it (new HLCs, same values). Writes made earlier must
   * already be on the server (SyncClient pushes them first), or be listed in `keep` (local
   * transactions the server refused): those are restored as they were, HLCs included.
   */
  async applySnapshot(
    chunks: AsyncIterable<SnapshotChunk> | Iterable<SnapshotChunk>,
    options: SnapshotApplyOptions & { readonly keep?: readonly ChangeSet[] } = {},
  ): Promise<void> {
    this.assertOpen();
    const journal: ChangeSet[] = [];
    let journaling = true;
    const stop = this.events.on('change', (c) => {
      if (journaling && c.source === 'local') journal.push(...c.changeSets);
    });
    try {
      await this.replica.applySnapshot(chunks, {
        ...options,
        onCheckpoint: (checkpoint) => {
          if (journaling) {
            journaling = false;
            stop();
            this.restore(options.keep ?? [], checkpoint);
            this.recommit(journal, checkpoint);
          }
          options.onCheckpoint?.(checkpoint);
        },
      });
    } finally {
      stop();
    }
    this.events.emit('change', { source: 'snapshot', rows: [], migrations: [], changeSets: [] });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.replica.close();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  private commit(changes: LocalChange[], migrations: LocalMigration[]): ChangeSet {
    const cs = this.replica.commitLocal({ changes, migrations });
    this.events.emit('change', describeChangeSets('local', [cs]));
    return cs;
  }

  /** Re-applies kept transactions the snapshot header cleared (tables it did not keep, every migration). */
  private restore(keep: readonly ChangeSet[], checkpoint: SnapshotCheckpoint): void {
    const kept = new Set(checkpoint.completedTables);
    const sets = keep
      .map((cs) => ({ ...cs, changes: cs.changes.filter((c) => !kept.has(`${c.schema}.${c.table}`)) }))
      .filter((cs) => cs.changes.length > 0 || cs.schemaMigrations.length > 0);
    if (sets.length > 0) this.replica.applyChanges(sets, { ownFacts: 'apply' });
  }

  /** Re-commits journaled local writes the snapshot header cleared (tables it did not keep). */
  private recommit(journal: readonly ChangeSet[], checkpoint: SnapshotCheckpoint): void {
    const kept = new Set(checkpoint.completedTables);
    // Every migration is cleared at the header (the stream re-sends the server's), so all go again.
    this.commitAgain(
      journal.map((cs) => ({ ...cs, changes: cs.changes.filter((c) => !kept.has(`${c.schema}.${c.table}`)) })),
    );
  }

  /**
   * Commits each transaction again as this replica's own: the same values and migrations under
   * new HLCs, one local transaction each (empty ones skipped). For writes that must be pushed by
   * this replica although another site made them first: re-committed over a snapshot, or taken
   * over from a closed browser tab's replica. Subscribers see them as local commits.
   */
  commitAgain(changeSets: readonly ChangeSet[]): void {
    this.assertOpen();
    for (const cs of changeSets) {
      const changes: LocalChange[] = cs.changes.map((c) =>
        c.type === 'column'
          ? { type: 'column', schema: c.schema, table: c.table, pk: c.pk, column: c.column, value: c.value }
          : { type: 'delete', schema: c.schema, table: c.table, pk: c.pk },
      );
      const migrations: LocalMigration[] = cs.schemaMigrations.map(({ hlc: _hlc, ...m }) => m);
      if (changes.length > 0 || migrations.length > 0) this.commit(changes, migrations);
    }
  }

  private toRow(cells: ReadonlyMap<string, SqlValue>, def: TableDefinition | undefined): Row {
    // No prototype: a column named __proto__ is then an ordinary own property, not the row's prototype.
    const row: Row = Object.create(null) as Row;
    if (def) for (const col of Object.keys(def.columns)) row[col] = null;
    for (const [col, value] of cells) row[col] = value;
    return row;
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('LocalDatabase is closed');
  }
}
