export { LocalDatabase, type LocalDatabaseOptions, type ListOptions, type RowEntry } from './local-database.js';
export { Transaction, type Row, type TableOptions } from './transaction.js';
export {
  COLUMN_TYPES,
  DEFAULT_SCHEMA,
  SchemaError,
  type ColumnType,
  type TableDefinition,
} from './table-definition.js';
export type { KeyInput } from './row-key.js';
export { Table, type TableRef } from './table.js';
export type { OrderTerm, QueryOptions } from './query.js';
export type { ColumnInput, ColumnValue, KeyOf, RowInputOf, RowOf } from './typed-rows.js';
export type { ChangeListener, ChangeSource, DatabaseChange, RowChange } from './change-events.js';
export { sameRowValues } from './watch.js';
