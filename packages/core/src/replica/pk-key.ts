// Row identity. The relay addresses a row by the raw encoding of its pk values, except that an
// integer has one spelling whatever its JS type: `5` and `5n` (and `2**60` and `2n**60n`) are
// the same row (PROTOCOL.md §6.1).
import { encodeSqlValues } from '../wire/sql-value.js';
import type { SqlValue } from '../wire/types.js';

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const MIN_SAFE = BigInt(Number.MIN_SAFE_INTEGER);

/** Safe integers become numbers, every other integer a bigint: one form per integer value. */
function canonicalInteger(v: SqlValue): SqlValue {
  if (typeof v === 'bigint') return v >= MIN_SAFE && v <= MAX_SAFE ? Number(v) : v;
  if (typeof v === 'number' && Number.isInteger(v) && !Number.isSafeInteger(v)) return BigInt(v);
  return v;
}

/** True when the pk's encoding is already its canonical key (no integer with two spellings). */
export function isCanonicalPk(pk: readonly SqlValue[]): boolean {
  for (const v of pk) {
    if (typeof v === 'bigint') return false;
    if (typeof v === 'number' && Number.isInteger(v) && !Number.isSafeInteger(v)) return false;
  }
  return true;
}

/** True when JSON.stringify already writes the wire text (no blob, bigint or non-finite number). */
function isPlainJson(pk: readonly SqlValue[]): boolean {
  for (const v of pk) {
    if (typeof v === 'string' || typeof v === 'boolean' || v === null) continue;
    if (typeof v !== 'number' || !Number.isFinite(v)) return false;
    if (Number.isInteger(v) && !Number.isSafeInteger(v)) return false;
  }
  return true;
}

/** The wire text of the pk with integers canonicalised; stores key rows by it. */
export function pkKeyOf(pk: readonly SqlValue[]): string {
  if (isPlainJson(pk)) return JSON.stringify(pk);
  return JSON.stringify(encodeSqlValues(isCanonicalPk(pk) ? pk : pk.map(canonicalInteger)));
}

/** The exact wire text of the pk (what a store keeps when it differs from the key). */
export function pkText(pk: readonly SqlValue[]): string {
  return JSON.stringify(encodeSqlValues(pk));
}
