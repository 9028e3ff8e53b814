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
export type { ChangeListener, ChangeSource, DatabaseChange, RowChange } from './change-events.js';
