// What a read asks for (equality filter, order, window) and how it is applied to a table's rows.
// Rows come from the replica in storage key order; filtering, sorting and paging happen here, in
// memory, so a read costs a scan of the table whatever it asks for.
import { compareBytes, sqlValuesEqual, type SqlValue } from '@syncord/core';
import { SchemaError, type TableDefinition } from './table-definition.js';

/** One sort key: a column (ascending), or a column and its direction. */
export type OrderTerm<C extends string = string> = C | { readonly column: C; readonly direction?: 'asc' | 'desc' };

export interface QueryOptions<R extends object = Record<string, SqlValue>> {
  /** Keep only rows whose columns equal these values (numbers and bigints compare by value). */
  readonly where?: { readonly [K in keyof R]?: R[K] };
  /**
   * Sort keys, most significant first, in SQL's order: null, then numbers, then text (by code
   * unit), then blobs (by bytes), then JSON values (by their text). Ties keep storage key order.
   */
  readonly orderBy?: OrderTerm<keyof R & string> | readonly OrderTerm<keyof R & string>[];
  /** At most this many rows (after `offset`). */
  readonly limit?: number;
  /** Skip this many rows first. */
  readonly offset?: number;
}

export interface QueriedEntry<R> {
  readonly key: readonly SqlValue[];
  readonly row: R;
}

/** Throws SchemaError for a window or order a read cannot honour (before any row is read). */
export function checkQuery(table: string, def: TableDefinition | undefined, q: QueryOptions): void {
  for (const [name, n] of [
    ['limit', q.limit],
    ['offset', q.offset],
  ] as const) {
    if (n !== undefined && !(Number.isSafeInteger(n) && n >= 0)) {
      throw new SchemaError(`read ${table}: ${name} must be a non-negative integer, got ${String(n)}`);
    }
  }
  for (const { column } of orderTerms(q)) {
    if (def && !Object.hasOwn(def.columns, column))
      throw new SchemaError(`read ${table}: unknown orderBy column ${column}`);
  }
}

/** Filters, sorts and windows `entries` (in storage key order) as `q` asks. */
export function runQuery<R extends Record<string, SqlValue>>(
  entries: Iterable<QueriedEntry<R>>,
  q: QueryOptions,
): QueriedEntry<R>[] {
  const where = Object.entries(q.where ?? {}) as [string, SqlValue][];
  let out: QueriedEntry<R>[] = [];
  for (const e of entries) {
    if (where.every(([col, value]) => col in e.row && sqlValuesEqual(e.row[col]!, value))) out.push(e);
  }
  const terms = orderTerms(q);
  if (terms.length > 0) {
    // Array.prototype.sort is stable: equal rows stay in storage key order.
    out.sort((a, b) => {
      for (const { column, sign } of terms) {
        const c = compareSqlValues(a.row[column] ?? null, b.row[column] ?? null);
        if (c !== 0) return sign * c;
      }
      return 0;
    });
  }
  if (q.offset !== undefined || q.limit !== undefined) {
    const from = q.offset ?? 0;
    out = out.slice(from, q.limit === undefined ? undefined : from + q.limit);
  }
  return out;
}

function orderTerms(q: QueryOptions): { column: string; sign: 1 | -1 }[] {
  if (q.orderBy === undefined) return [];
  const list: readonly OrderTerm[] = Array.isArray(q.orderBy) ? q.orderBy : [q.orderBy as OrderTerm];
  return list.map((t) =>
    typeof t === 'string' ? { column: t, sign: 1 } : { column: t.column, sign: t.direction === 'desc' ? -1 : 1 },
  );
}

function rank(v: SqlValue): number {
  if (v === null) return 0;
  if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') return 1;
  if (typeof v === 'string') return 2;
  if (v instanceof Uint8Array) return 3;
  return 4;
}

/** SQL's value order (see QueryOptions.orderBy); a number and a bigint compare by value. */
export function compareSqlValues(a: SqlValue, b: SqlValue): number {
  const ra = rank(a);
  const rb = rank(b);
  if (ra !== rb) return ra - rb;
  switch (ra) {
    case 0:
      return 0;
    case 1:
      return compareNumbers(a as number | bigint | boolean, b as number | bigint | boolean);
    case 2:
      return a! < b! ? -1 : a! > b! ? 1 : 0;
    case 3:
      return compareBytes(a as Uint8Array, b as Uint8Array);
    default: {
      const ja = JSON.stringify(a);
      const jb = JSON.stringify(b);
      return ja < jb ? -1 : ja > jb ? 1 : 0;
    }
  }
}

function compareNumbers(a: number | bigint | boolean, b: number | bigint | boolean): number {
  const x = typeof a === 'boolean' ? Number(a) : a;
  const y = typeof b === 'boolean' ? Number(b) : b;
  if (typeof x === 'number' && typeof y === 'number') return x < y ? -1 : x > y ? 1 : 0;
  // A bigint against a number: exact when the number is integral, else close enough to order.
  if (typeof x === 'number' && !Number.isInteger(x)) return x < Number(y) ? -1 : x > Number(y) ? 1 : 0;
  if (typeof y === 'number' && !Number.isInteger(y)) return Number(x) < y ? -1 : Number(x) > y ? 1 : 0;
  const bx = BigInt(x);
  const by = BigInt(y);
  return bx < by ? -1 : bx > by ? 1 : 0;
}
