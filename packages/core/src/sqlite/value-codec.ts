// Cell values in SQLite without JSON on the hot path: null, strings, numbers and blobs are stored
// natively (numbers bind as REAL, so -0 and integers round-trip as JS numbers); the types SQLite
// cannot tell apart carry a tag in `vt`.
import type { SqlValue } from '../wire/types.js';

const TAG_BIGINT = 1;
const TAG_BOOLEAN = 2;
const TAG_JSON = 3;

/** The value to bind into `v`. */
export function storedValue(v: SqlValue): unknown {
  if (v === null || typeof v === 'string' || typeof v === 'number' || v instanceof Uint8Array) return v;
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'boolean') return v ? 1 : 0;
  return JSON.stringify(v);
}

/** The tag to bind into `vt` (null for natively stored values). */
export function storedTag(v: SqlValue): number | null {
  if (v === null || typeof v === 'string' || typeof v === 'number' || v instanceof Uint8Array) return null;
  if (typeof v === 'bigint') return TAG_BIGINT;
  if (typeof v === 'boolean') return TAG_BOOLEAN;
  return TAG_JSON;
}

/** better-sqlite3 returns blobs as Buffers; callers get plain Uint8Arrays (a view, no copy). */
export function asBytes(b: unknown): Uint8Array {
  const buf = b as Uint8Array;
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

export function loadValue(v: unknown, tag: number | null): SqlValue {
  switch (tag) {
    case null:
      return v instanceof Uint8Array ? asBytes(v) : (v as SqlValue);
    case TAG_BIGINT:
      return BigInt(v as string);
    case TAG_BOOLEAN:
      return v === 1;
    case TAG_JSON:
      return JSON.parse(v as string) as SqlValue;
    default:
      throw new Error(`Unknown stored value tag ${tag}`);
  }
}
