// Primary keys as the app passes them (a scalar for a one-column key, an array otherwise), a
// string identity for grouping rows in memory, and the value equality used by filters. A number
// and a bigint of equal value are the same key to the engine, so they are here too.
import { bytesEqual, pkKeyOf, type SqlValue } from '@syncord/core';
import { SchemaError } from './table-definition.js';

/** A primary key: the values in key order, or the bare value of a one-column key. */
export type KeyInput = SqlValue | readonly SqlValue[];

/** An array is always read as the key tuple (a JSON-array key value must be wrapped: `[[1, 2]]`). */
export function keyValues(key: KeyInput, expectedLength: number | undefined, what: string): SqlValue[] {
  const values = Array.isArray(key) ? [...(key as readonly SqlValue[])] : [key as SqlValue];
  if (expectedLength !== undefined && values.length !== expectedLength) {
    throw new SchemaError(`${what}: the primary key has ${expectedLength} column(s), got ${values.length} value(s)`);
  }
  if (values.length === 0) throw new SchemaError(`${what}: a primary key needs at least one value`);
  values.forEach((v, i) => {
    if (v === null || v === undefined) throw new SchemaError(`${what}: primary key value ${i} must not be null`);
  });
  return values;
}

/** The same string for keys the engine treats as the same row (its own pk key, so 5 and 5n agree). */
export function rowIdentity(schema: string, table: string, pk: readonly SqlValue[]): string {
  return `${JSON.stringify([schema, table])}${pkKeyOf(pk)}`;
}

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
