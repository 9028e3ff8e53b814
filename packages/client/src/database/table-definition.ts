// What an app declares about a table, its validation, and the plain SQL DDL a declaration is
// recorded as (a `create_table` / `add_column` migration), so SQL-based peers can create it too.

/** Column types, as SQL type names. `json` holds any JSON value; `any` holds any SqlValue. */
export const COLUMN_TYPES = ['text', 'integer', 'real', 'blob', 'json', 'any'] as const;
export type ColumnType = (typeof COLUMN_TYPES)[number];

export interface TableDefinition {
  /** Column name → type; the order is the DDL's column order. */
  readonly columns: Readonly<Record<string, ColumnType>>;
  /** Primary key columns, in key order. */
  readonly primaryKey: readonly string[];
}

export const DEFAULT_SCHEMA = 'main';

export class SchemaError extends Error {
  override readonly name = 'SchemaError';
}

const COLUMN_TYPE_SET: ReadonlySet<string> = new Set(COLUMN_TYPES);

/** A name the DDL can quote and a peer can store: non-empty, no NUL. */
export function checkName(name: unknown, what: string): string {
  if (typeof name !== 'string' || name.length === 0 || name.includes('\0')) {
    throw new SchemaError(`${what} must be a non-empty string without NUL characters`);
  }
  return name;
}

/** Throws SchemaError naming the problem; returns a frozen copy safe to keep. */
export function checkTableDefinition(table: string, def: TableDefinition): TableDefinition {
  if (typeof def !== 'object' || def === null) throw new SchemaError(`Table ${table}: definition must be an object`);
  const columns = new Map<string, ColumnType>();
  const entries = Object.entries(def.columns ?? {});
  if (entries.length === 0) throw new SchemaError(`Table ${table}: at least one column is required`);
  for (const [name, type] of entries) {
    checkName(name, `Table ${table}: column name`);
    if (!COLUMN_TYPE_SET.has(type)) {
      throw new SchemaError(
        `Table ${table}: column ${name} has unknown type ${String(type)} (use ${COLUMN_TYPES.join(', ')})`,
      );
    }
    columns.set(name, type);
  }
  if (!Array.isArray(def.primaryKey) || def.primaryKey.length === 0) {
    throw new SchemaError(`Table ${table}: primaryKey must name at least one column`);
  }
  const seen = new Set<string>();
  for (const col of def.primaryKey) {
    if (!columns.has(col)) throw new SchemaError(`Table ${table}: primary key column ${String(col)} is not a column`);
    if (seen.has(col)) throw new SchemaError(`Table ${table}: primary key column ${col} is listed twice`);
    seen.add(col);
  }
  // fromEntries makes own properties even of names like __proto__.
  return Object.freeze({
    columns: Object.freeze(Object.fromEntries(columns)),
    primaryKey: Object.freeze([...def.primaryKey]),
  });
}

export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

function qualified(schema: string, table: string): string {
  return schema === DEFAULT_SCHEMA ? quoteIdent(table) : `${quoteIdent(schema)}.${quoteIdent(table)}`;
}

function columnSql(name: string, type: ColumnType): string {
  return type === 'any' ? quoteIdent(name) : `${quoteIdent(name)} ${type}`;
}

export function createTableDdl(schema: string, table: string, def: TableDefinition): string {
  const cols = Object.entries(def.columns).map(([name, type]) => columnSql(name, type));
  const pk = def.primaryKey.map(quoteIdent).join(', ');
  return `create table ${qualified(schema, table)} (${cols.join(', ')}, primary key (${pk}))`;
}

export function addColumnDdl(schema: string, table: string, column: string, type: ColumnType): string {
  return `alter table ${qualified(schema, table)} add column ${columnSql(column, type)}`;
}

export function sameDefinition(a: TableDefinition, b: TableDefinition): boolean {
  const ac = Object.entries(a.columns);
  const bc = Object.entries(b.columns);
  return (
    ac.length === bc.length &&
    ac.every(([name, type], i) => bc[i]?.[0] === name && bc[i]?.[1] === type) &&
    a.primaryKey.length === b.primaryKey.length &&
    a.primaryKey.every((c, i) => b.primaryKey[i] === c)
  );
}
