// A declared table as a typed handle: `db.declareTable(...)` returns one, and its reads, writes
// and live queries take and give rows typed from the declaration. It is a thin view over the
// LocalDatabase's string-named calls, which stay for tables the app did not declare.
import type { ChangeSet, SqlValue } from '@syncord/core';
import type { QueryOptions } from './query.js';
import type { TableDefinition } from './table-definition.js';
import type { KeyOf, RowInputOf, RowOf } from './typed-rows.js';

/** What a Table needs from its database (LocalDatabase's untyped calls). */
export interface TableHost {
  get(table: string, key: never, options: { schema: string }): unknown;
  list(table: string, options: QueryOptions & { schema: string }): unknown[];
  put(table: string, row: never, options: { schema: string }): ChangeSet;
  delete(table: string, key: never, options: { schema: string }): ChangeSet;
  watch(
    table: string,
    options: QueryOptions & { schema: string },
    listener: (rows: Record<string, SqlValue>[]) => void,
  ): () => void;
}

/** A table reference with the row types its writes take (for `tx.put(table, row)`). */
export interface TableRef<D extends TableDefinition = TableDefinition> {
  readonly name: string;
  readonly schema: string;
  readonly definition: D;
}

export class Table<D extends TableDefinition = TableDefinition> implements TableRef<D> {
  constructor(
    private readonly db: TableHost,
    readonly name: string,
    readonly schema: string,
    readonly definition: D,
  ) {}

  /** The row with this primary key, or undefined. */
  get(key: KeyOf<D>): RowOf<D> | undefined {
    return this.db.get(this.name, key as never, { schema: this.schema }) as RowOf<D> | undefined;
  }

  /** Rows, filtered, ordered and windowed as asked (storage key order by default). */
  list(options: QueryOptions<RowOf<D>> = {}): RowOf<D>[] {
    return this.db.list(this.name, { ...(options as QueryOptions), schema: this.schema }) as RowOf<D>[];
  }

  /** Writes the given columns of a row (the key columns are required). One transaction. */
  put(row: RowInputOf<D>): ChangeSet {
    return this.db.put(this.name, row as never, { schema: this.schema });
  }

  /** Deletes a row by primary key. One transaction. */
  delete(key: KeyOf<D>): ChangeSet {
    return this.db.delete(this.name, key as never, { schema: this.schema });
  }

  /** Calls `listener` with the query's rows now and whenever they change; returns unsubscribe. */
  watch(options: QueryOptions<RowOf<D>>, listener: (rows: RowOf<D>[]) => void): () => void {
    return this.db.watch(
      this.name,
      { ...(options as QueryOptions), schema: this.schema },
      listener as (rows: Record<string, SqlValue>[]) => void,
    );
  }
}
