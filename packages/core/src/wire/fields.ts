// Field readers shared by the wire decoders: each names the offending path in its WireError, so a
// rejected message tells the sender exactly which field was wrong.
import { WireError } from './wire-error.js';

export type JsonObject = Record<string, unknown>;

/** `parent.key`, or just `key` at the top. */
export function fieldPath(parent: string, key: string): string {
  return parent === '' ? key : `${parent}.${key}`;
}

/** A plain JSON object (not null, not an array). */
export function expectObject(json: unknown, what: string): JsonObject {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new WireError(`${what} must be an object, got ${describeValue(json)}`);
  }
  return json as JsonObject;
}

export function expectArray(json: unknown, what: string): unknown[] {
  if (!Array.isArray(json)) throw new WireError(`${what} must be an array, got ${describeValue(json)}`);
  return json;
}

export function expectString(json: unknown, what: string, opts: { nonEmpty?: boolean } = {}): string {
  if (typeof json !== 'string') throw new WireError(`${what} must be a string, got ${describeValue(json)}`);
  if (opts.nonEmpty && json.length === 0) throw new WireError(`${what} must not be empty`);
  return json;
}

/** In a `u` regex a valid surrogate pair is one code point, so this matches only unpaired halves. */
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

/**
 * What is wrong with a schema, table, column or index name, if anything. Empty names name
 * nothing; NUL cannot appear in SQL text, so no client can create such a table; a lone UTF-16
 * surrogate cannot be written as UTF-8, so a store would give the name back changed after a
 * restart (and a peer holding it unchanged would disagree). Anything else is a legal quoted SQL
 * identifier, `__proto__` included.
 */
export function nameProblem(name: string): string | undefined {
  if (name.length === 0) return 'must not be empty';
  if (name.includes('\0')) return 'must not contain NUL (U+0000)';
  if (LONE_SURROGATE.test(name)) return 'must be well-formed Unicode (it holds an unpaired surrogate)';
  return undefined;
}

/** Text that stores must keep exactly (DDL): well-formed Unicode, empty allowed. */
export function expectWellFormedString(json: unknown, what: string): string {
  const s = expectString(json, what);
  if (LONE_SURROGATE.test(s))
    throw new WireError(`${what} must be well-formed Unicode (it holds an unpaired surrogate)`);
  return s;
}

/** A schema, table, column or index name (see nameProblem). */
export function expectName(json: unknown, what: string): string {
  const name = expectString(json, what);
  const problem = nameProblem(name);
  if (problem !== undefined) throw new WireError(`${what} ${problem}`);
  return name;
}

export function optionalName(json: unknown, what: string): string | undefined {
  return json === undefined ? undefined : expectName(json, what);
}

export function optionalString(json: unknown, what: string): string | undefined {
  return json === undefined ? undefined : expectString(json, what);
}

/** A safe integer within [min, max]; rejects fractions, NaN, ±Infinity and numeric strings. */
export function expectInteger(json: unknown, what: string, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof json !== 'number' || !Number.isSafeInteger(json)) {
    throw new WireError(`${what} must be an integer, got ${describeValue(json)}`);
  }
  if (json < min || json > max) throw new WireError(`${what} must be between ${min} and ${max}, got ${json}`);
  return json;
}

/** Short description of an unexpected value for error messages (never echoes large input). */
export function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  switch (typeof v) {
    case 'string':
      return v.length > 40 ? `a string of ${v.length} characters` : JSON.stringify(v);
    case 'number':
    case 'boolean':
      return String(v);
    case 'object':
      return 'an object';
    default:
      return typeof v;
  }
}
