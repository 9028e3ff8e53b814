// Primary keys as the app passes them (a scalar for a one-column key, an array otherwise), a
// string identity for grouping rows in memory, and the value equality used by filters. A number
// and a bigint of equal value are the same key to the engine, so they are here too.
import { pkKeyOf, type SqlValue } from '@syncord/core';
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

// The engine's value equality (5 and 5n are equal, blobs by bytes), so filters agree with it.
export { sqlValuesEqual } from '@syncord/core';
