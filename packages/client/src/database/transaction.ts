// The writes of one local transaction, collected and checked before anything is committed: a
// transaction becomes exactly one ChangeSet (one HLC tick), and a rejected write aborts all of it.
import type { LocalChange, SqlValue } from '@syncord/core';
import { keyValues, rowIdentity, type KeyInput } from './row-key.js';
import { checkColumnValue } from './column-values.js';
import type { TableRef } from './table.js';
import { checkName, DEFAULT_SCHEMA, SchemaError, type TableDefinition } from './table-definition.js';
import type { KeyOf, RowInputOf } from './typed-rows.js';

/** A row as the app reads and writes it: column name → value. */
export type Row = Record<string, SqlValue>;

export interface TableOptions {
  /** Default `main`. */
  readonly schema?: string;
}

/** What a transaction needs from its database. */
export interface TransactionContext {
  definition(schema: string, table: string): TableDefinition | undefined;
  rowExists(schema: string, table: string, pk: readonly SqlValue[]): boolean;
}

export class Transaction {
  // Keyed by cell (or row, for deletes) so a later write to the same cell replaces the earlier
  // one; Map order keeps the write order the opSeqs follow.
  private readonly writes = new Map<string, LocalChange>();
  private readonly deletedRows = new Set<string>();
  private readonly touchedRows = new Set<string>();

  constructor(private readonly ctx: TransactionContext) {}

  /**
   * Writes the given columns of a row (a partial row updates only those columns). The primary
   * key columns are required; they are written as cells too when the row is new.
   */
  put<D extends TableDefinition>(table: TableRef<D>, row: RowInputOf<D>): this;
  put(table: string, row: Row, options?: TableOptions): this;
  put(ref: string | TableRef, row: Row, options: TableOptions = {}): this {
    const [table, opts] = typeof ref === 'string' ? [ref, options] : [ref.name, { schema: ref.schema }];
    const { schema, def } = this.declared(table, opts);
    if (typeof row !== 'object' || row === null || Array.isArray(row)) {
      throw new SchemaError(`put ${table}: the row must be an object`);
    }
    // The values as stored (a boolean in an integer column becomes 0/1).
    const values = new Map<string, SqlValue>();
    for (const [column, value] of Object.entries(row)) {
      const type = Object.hasOwn(def.columns, column) ? def.columns[column] : undefined;
      if (type === undefined) throw new SchemaError(`put ${table}: unknown column ${column}`);
      values.set(column, checkColumnValue(table, column, type, value));
    }
    const pk = def.primaryKey.map((c) => {
      const v = values.get(c);
      if (v === undefined || v === null) throw new SchemaError(`put ${table}: primary key column ${c} needs a value`);
      return v;
    });
    const id = rowIdentity(schema, table, pk);
    if (this.deletedRows.has(id)) {
      throw new SchemaError(
        `put ${table}: the row was deleted earlier in this transaction; a deleted key stays deleted`,
      );
    }
    const isNew = !this.touchedRows.has(id) && !this.ctx.rowExists(schema, table, pk);
    const pkColumns = new Set(def.primaryKey);
    for (const [column, value] of values) {
      if (pkColumns.has(column) && !isNew) continue;
      const cell = `${id}\0${column}`;
      this.writes.delete(cell);
      this.writes.set(cell, { type: 'column', schema, table, pk, column, value });
    }
    this.touchedRows.add(id);
    return this;
  }

  /** Deletes a row by primary key (a scalar for a one-column key, else the values in key order). */
  delete<D extends TableDefinition>(table: TableRef<D>, key: KeyOf<D>): this;
  delete(table: string, key: KeyInput, options?: TableOptions): this;
  delete(ref: string | TableRef, key: KeyInput, options: TableOptions = {}): this {
    const [table, opts] = typeof ref === 'string' ? [ref, options] : [ref.name, { schema: ref.schema }];
    const { schema, def } = this.declared(table, opts);
    const pk = keyValues(key, def.primaryKey.length, `delete ${table}`);
    const id = rowIdentity(schema, table, pk);
    for (const cell of [...this.writes.keys()]) if (cell.startsWith(`${id}\0`)) this.writes.delete(cell);
    this.writes.set(id, { type: 'delete', schema, table, pk });
    this.deletedRows.add(id);
    this.touchedRows.add(id);
    return this;
  }

  /** The collected writes, in write order. */
  changes(): LocalChange[] {
    return [...this.writes.values()];
  }

  private declared(table: string, options: TableOptions): { schema: string; def: TableDefinition } {
    const schema = checkName(options.schema ?? DEFAULT_SCHEMA, 'schema');
    checkName(table, 'table');
    const def = this.ctx.definition(schema, table);
    if (!def) throw new SchemaError(`Table ${schema}.${table} is not declared; declare it before writing to it`);
    return { schema, def };
  }
}
