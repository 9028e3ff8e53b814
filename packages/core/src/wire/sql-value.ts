// SqlValue <-> JSON (PROTOCOL.md §1.3). Blobs and bigints are tagged objects because JSON has
// neither; every other value travels as itself.
import { bytesEqual } from '../clock/bytes.js';
import { fromBase64, toBase64 } from './base64.js';
import type { JsonValue, SqlValue } from './types.js';
import { WireError } from './wire-error.js';

/**
 * JSON.parse copes with any nesting, but JSON.stringify (and every recursive walk) overflows the
 * stack past a few thousand levels, so a stored value this deep could never be served again.
 */
export const MAX_JSON_DEPTH = 100;

/**
 * A 64-bit integer needs 20 characters; the cap only keeps BigInt parsing cheap (a 1 MB digit
 * string costs ~250 ms of CPU) while leaving ample room for arbitrary-precision values.
 */
export const MAX_BIGINT_CHARS = 1024;

const DECIMAL_INTEGER = /^-?[0-9]+$/;

/** The JSON form of one value; `JSON.stringify` of the result is the wire text. */
export function encodeSqlValue(v: SqlValue): unknown {
  if (v instanceof Uint8Array) return { __bin: toBase64(v) };
  if (typeof v === 'bigint') return { __bigint: v.toString() };
  // JSON.stringify would write these as null anyway; doing it here keeps the encoded value honest.
  if (typeof v === 'number' && !Number.isFinite(v)) return null;
  return v;
}

export function encodeSqlValues(values: readonly SqlValue[]): unknown[] {
  return values.map(encodeSqlValue);
}

/**
 * Decodes one wire value. `{"__bin": string}` → blob (strict base64), `{"__bigint": string}` →
 * bigint (decimal only), the legacy `{"0":b0,"1":b1,…}` byte object → blob; any other JSON value
 * passes through. Values that JSON cannot carry (undefined, functions, NaN…) are rejected.
 */
export function decodeSqlValue(json: unknown, what = 'value'): SqlValue {
  switch (typeof json) {
    case 'string':
    case 'boolean':
    case 'bigint':
      return json;
    case 'number':
      if (!Number.isFinite(json)) throw new WireError(`${what} must be a finite number`);
      return json;
    case 'object':
      if (json === null || json instanceof Uint8Array) return json;
      if (Array.isArray(json)) return checkJson(json, what, 1) as JsonValue[];
      return decodeObject(json as Record<string, unknown>, what);
    default:
      throw new WireError(`${what} must be a JSON value, got ${typeof json}`);
  }
}

/** Decodes an array of values (a pk or a before-image row); anything but an array is an error. */
export function decodeSqlValues(json: unknown, what = 'values'): SqlValue[] {
  if (!Array.isArray(json)) throw new WireError(`${what} must be an array`);
  const out = new Array<SqlValue>(json.length);
  for (let i = 0; i < json.length; i++) {
    const v: unknown = json[i];
    // The element's path is only built for a value that needs more than a look at its type.
    out[i] = isPlainSqlValue(v) ? v : decodeSqlValue(v, `${what}[${i}]`);
  }
  return out;
}

/** A string, boolean, null or finite number: decodeSqlValue returns it as it is. */
export function isPlainSqlValue(v: unknown): v is string | boolean | number | null {
  return typeof v === 'string' || typeof v === 'boolean' || v === null || (typeof v === 'number' && Number.isFinite(v));
}

function decodeObject(obj: Record<string, unknown>, what: string): SqlValue {
  const bin = obj['__bin'];
  if (typeof bin === 'string') return fromBase64(bin, `${what}.__bin`);
  const big = obj['__bigint'];
  if (typeof big === 'string') return parseBigInt(big, `${what}.__bigint`);
  const legacy = legacyBytes(obj);
  if (legacy) return legacy;
  return checkJson(obj, what, 1) as JsonValue;
}

function parseBigInt(text: string, what: string): bigint {
  if (text.length > MAX_BIGINT_CHARS) throw new WireError(`${what} must be at most ${MAX_BIGINT_CHARS} characters`);
  if (!DECIMAL_INTEGER.test(text)) throw new WireError(`${what} must be a decimal integer string`);
  return BigInt(text);
}

/**
 * A Uint8Array that went through plain JSON.stringify: keys exactly "0".."n-1" (n ≥ 1), every
 * value an integer 0–255. Integer-like keys enumerate in ascending order, so position i must be "i".
 */
function legacyBytes(obj: Record<string, unknown>): Uint8Array | undefined {
  const keys = Object.keys(obj);
  if (keys.length === 0) return undefined;
  const out = new Uint8Array(keys.length);
  for (let i = 0; i < keys.length; i++) {
    if (keys[i] !== String(i)) return undefined;
    const b = obj[keys[i]!];
    if (typeof b !== 'number' || !Number.isInteger(b) || b < 0 || b > 255) return undefined;
    out[i] = b;
  }
  return out;
}

/** Verifies a pass-through JSON value holds only JSON (bounded depth) and returns it unchanged. */
function checkJson(v: unknown, what: string, depth: number): unknown {
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return v;
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new WireError(`${what} must be a finite number`);
    return v;
  }
  if (typeof v !== 'object') throw new WireError(`${what} must be a JSON value, got ${typeof v}`);
  if (depth > MAX_JSON_DEPTH) throw new WireError(`${what} is nested deeper than ${MAX_JSON_DEPTH} levels`);
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) checkJson(v[i], `${what}[${i}]`, depth + 1);
    return v;
  }
  const proto: unknown = Object.getPrototypeOf(v);
  if (proto !== Object.prototype && proto !== null) throw new WireError(`${what} must be a plain JSON object`);
  for (const [k, x] of Object.entries(v)) checkJson(x, `${what}.${k}`, depth + 1);
  return v;
}

/**
 * Value equality as replicas see it: a bigint equals an integral number of the same value (the
 * wire has two spellings for one integer), blobs compare by bytes, JSON values by their text.
 */
export function sqlValuesEqual(a: SqlValue, b: SqlValue): boolean {
  if (a === b) return true;
  if (a === null || b === null) return false;
  if ((typeof a === 'number' || typeof a === 'bigint') && (typeof b === 'number' || typeof b === 'bigint')) {
    // Compare as exact numbers: a bigint only equals an integral number of the same value.
    if (typeof a === 'number' && !Number.isInteger(a)) return false;
    if (typeof b === 'number' && !Number.isInteger(b)) return false;
    return BigInt(a) === BigInt(b);
  }
  if (a instanceof Uint8Array || b instanceof Uint8Array) {
    return a instanceof Uint8Array && b instanceof Uint8Array && bytesEqual(a, b);
  }
  if (typeof a === 'object' && typeof b === 'object') return JSON.stringify(a) === JSON.stringify(b);
  return false;
}
