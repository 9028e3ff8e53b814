// Row types inferred from a table declaration, so app code reads `todo.title` as a string without
// casting `Record<string, SqlValue>`. They describe what this app's declaration lets it write;
// values a peer wrote under another declaration are not checked on arrival, so a type is as
// reliable as the apps sharing the database agree on their declarations.
import type { JsonValue, SqlValue } from '@syncord/core';
import type { ColumnType, TableDefinition } from './table-definition.js';

/** What a column of this type reads as (besides null). Integers beyond 2^53 arrive as bigints. */
export type ColumnValue<T extends ColumnType> = T extends 'text'
  ? string
  : T extends 'integer'
    ? number | bigint
    : T extends 'real'
      ? number
      : T extends 'blob'
        ? Uint8Array
        : T extends 'json'
          ? JsonValue
          : SqlValue;

/** What a column of this type accepts: an integer column also takes a boolean (stored as 0/1). */
export type ColumnInput<T extends ColumnType> = T extends 'integer' ? number | bigint | boolean : ColumnValue<T>;

type Simplify<T> = { [K in keyof T]: T[K] } & {};
type Columns<D extends TableDefinition> = D['columns'];
type KeyColumn<D extends TableDefinition> = D['primaryKey'][number] & keyof Columns<D> & string;
type OtherColumn<D extends TableDefinition> = Exclude<keyof Columns<D> & string, KeyColumn<D>>;

/** A row as read: every declared column (key columns never null; the others null when unset). */
export type RowOf<D extends TableDefinition> = Simplify<
  { -readonly [K in KeyColumn<D>]: ColumnValue<Columns<D>[K]> } & {
    -readonly [K in OtherColumn<D>]: ColumnValue<Columns<D>[K]> | null;
  }
>;

/** A row as written: the key columns, and any of the others (a partial row updates only those). */
export type RowInputOf<D extends TableDefinition> = Simplify<
  { readonly [K in KeyColumn<D>]: ColumnInput<Columns<D>[K]> } & {
    readonly [K in OtherColumn<D>]?: ColumnInput<Columns<D>[K]> | null;
  }
>;

type KeyValues<D extends TableDefinition, P extends readonly unknown[]> = {
  readonly [I in keyof P]: P[I] extends keyof Columns<D> ? ColumnValue<Columns<D>[P[I]]> : SqlValue;
};

/** A primary key: the bare value of a one-column key (or a one-value array), else the values in key order. */
export type KeyOf<D extends TableDefinition> = D['primaryKey'] extends readonly [infer Only]
  ? Only extends keyof Columns<D>
    ? ColumnValue<Columns<D>[Only]> | readonly [ColumnValue<Columns<D>[Only]>]
    : SqlValue | readonly SqlValue[]
  : D['primaryKey'] extends readonly [unknown, ...unknown[]]
    ? KeyValues<D, D['primaryKey']>
    : SqlValue | readonly SqlValue[];
