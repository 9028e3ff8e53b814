// What a declared column accepts, checked before anything reaches the engine, so an app's mistake
// is reported as `table.column: what is wrong; what to store instead` and never as the wire path
// the engine would name (`changes[1].value`). A value that is not a SQL value at all (a Date, a
// Map, NaN) is refused in every column type; a boolean in an integer column is stored as 0/1, as
// SQL stores it, so a peer reading the column sees an integer.
import { MAX_JSON_DEPTH, type SqlValue } from '@syncord/core';
import { SchemaError, type ColumnType } from './table-definition.js';

/**
 * The value to store in `table.column` (a boolean in an integer column becomes 0/1); throws a
 * SchemaError naming the column when the value is not a SQL value or does not fit the type.
 */
export function checkColumnValue(table: string, column: string, type: ColumnType, value: unknown): SqlValue {
  const where = `${table}.${column}`;
  if (value === undefined) throw new SchemaError(`${where}: undefined is not a value (use null)`);
  // A nested problem names its place inside the value: todos.meta.when, todos.tags[2].
  const problem = value instanceof Uint8Array || typeof value === 'bigint' ? undefined : notJson(value, '', 0);
  if (problem) throw new SchemaError(`${where}${problem.path}: ${problem.text}`);
  const v = value as SqlValue;
  if (v === null || type === 'any') return v;
  if (type === 'integer' && typeof v === 'boolean') return v ? 1 : 0;
  const ok =
    type === 'text'
      ? typeof v === 'string'
      : type === 'integer'
        ? typeof v === 'bigint' || (typeof v === 'number' && Number.isInteger(v))
        : type === 'real'
          ? typeof v === 'number' || typeof v === 'bigint'
          : type === 'blob'
            ? v instanceof Uint8Array
            : !(v instanceof Uint8Array) && typeof v !== 'bigint';
  if (!ok) throw new SchemaError(`${where}: ${describe(v)} is not a valid ${type} value`);
  return v;
}

/** The first part of `value` that JSON cannot hold, and what to store instead. */
function notJson(value: unknown, path: string, depth: number): { path: string; text: string } | undefined {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return undefined;
  if (value === undefined) return { path, text: 'undefined is not a JSON value (use null or leave it out)' };
  if (typeof value === 'number') {
    return Number.isFinite(value)
      ? undefined
      : { path, text: `${String(value)} is not a SQL value; store null or a finite number` };
  }
  const what = path === '' ? 'a SQL value' : 'a JSON value';
  if (value instanceof Date) return { path, text: `a Date is not ${what}; store an ISO string or a number` };
  if (typeof value === 'bigint') return { path, text: `a bigint is not ${what}; store it as a string or a number` };
  if (value instanceof Uint8Array) return { path, text: `a blob is not ${what}; store blobs in a blob column` };
  if (typeof value !== 'object') return { path, text: `${describeType(value)} is not ${what}` };
  if (depth >= MAX_JSON_DEPTH) return { path, text: `a value nested deeper than ${MAX_JSON_DEPTH} levels` };
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const p = notJson(value[i], `${path}[${i}]`, depth + 1);
      if (p) return p;
    }
    return undefined;
  }
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) {
    const name = (value as { constructor?: { name?: unknown } }).constructor?.name;
    const shown = typeof name === 'string' && name !== '' ? `a ${name}` : 'an object with a prototype';
    return { path, text: `${shown} is not ${what}; store a plain object or an array (in a json column)` };
  }
  for (const [k, x] of Object.entries(value)) {
    const p = notJson(x, `${path}.${k}`, depth + 1);
    if (p) return p;
  }
  return undefined;
}

function describeType(v: unknown): string {
  return typeof v === 'function' ? 'a function' : typeof v === 'symbol' ? 'a symbol' : `a ${typeof v}`;
}

function describe(v: SqlValue): string {
  if (v instanceof Uint8Array) return 'a blob';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object' && v !== null) return 'an object';
  return typeof v === 'string' ? 'a string' : `${typeof v} ${String(v)}`;
}
