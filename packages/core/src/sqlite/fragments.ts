// Fragments: the live cells one transaction wrote to one row, stored as one record (schema.ts).
// `meta` is JSON [column, opSeq, column, opSeq, …]; `vals` is JSON of the values in their wire
// form (PROTOCOL.md §1.3), which every value the engine can hold survives unchanged. Keeping the
// two apart lets a merge read only the small `meta`.
import { decodeSqlValue, encodeSqlValue, isPlainSqlValue } from '../wire/sql-value.js';
import type { SqlValue } from '../wire/types.js';

export interface FragmentCell {
  readonly column: string;
  readonly opSeq: number;
}

export function parseMeta(text: string): FragmentCell[] {
  const flat = JSON.parse(text) as (string | number)[];
  const out: FragmentCell[] = new Array(flat.length / 2);
  for (let i = 0, j = 0; i < flat.length; i += 2, j++)
    out[j] = { column: flat[i] as string, opSeq: flat[i + 1] as number };
  return out;
}

export function metaText(cells: readonly FragmentCell[]): string {
  const flat: (string | number)[] = [];
  for (const c of cells) flat.push(c.column, c.opSeq);
  return JSON.stringify(flat);
}

export function parseVals(text: string): SqlValue[] {
  const raw = JSON.parse(text) as unknown[];
  const out: SqlValue[] = new Array(raw.length);
  for (let i = 0; i < raw.length; i++) out[i] = decodeSqlValue(raw[i], 'stored value');
  return out;
}

export function valsText(values: readonly SqlValue[]): string {
  // Strings, booleans, null and finite numbers are their own wire form: no copy to encode them.
  return JSON.stringify(values.every(isPlainSqlValue) ? values : values.map(encodeSqlValue));
}
