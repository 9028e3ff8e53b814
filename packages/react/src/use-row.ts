// useRow: one row by primary key, re-read when a change names that row (or a snapshot replaced
// everything); undefined while it does not exist, and again once it is deleted.
import { sqlValuesEqual, type SqlValue } from '@syncord/core';
import {
  DEFAULT_SCHEMA,
  sameRowValues,
  type KeyInput,
  type KeyOf,
  type Row,
  type RowOf,
  type Table,
  type TableDefinition,
  type TableOptions,
} from '@syncord/client';
import { useSyncord } from './context.js';
import { stableKey, useLiveValue } from './live-value.js';

/** A row of a declared table, typed from its declaration. */
export function useRow<D extends TableDefinition>(table: Table<D>, key: KeyOf<D>): RowOf<D> | undefined;
/** A row of a table by name; `key` is the primary key value, or its values in key order. */
export function useRow(table: string, key: KeyInput, options?: TableOptions): Row | undefined;
export function useRow(table: string | Table, key: KeyInput, options: TableOptions = {}): Row | undefined {
  const { database } = useSyncord('useRow');
  const name = typeof table === 'string' ? table : table.name;
  const schema = typeof table === 'string' ? (options.schema ?? DEFAULT_SCHEMA) : table.schema;
  return useLiveValue(() => {
    const pk: readonly SqlValue[] = Array.isArray(key) ? key : [key as SqlValue];
    const read = (): Row | undefined => database.get(name, key, { schema });
    return {
      read,
      watch: (update) => {
        const stop = database.subscribe((change) => {
          const named = change.rows.some(
            (r) =>
              r.table === name &&
              r.schema === schema &&
              r.key.length === pk.length &&
              r.key.every((v, i) => sqlValuesEqual(v, pk[i]!)),
          );
          if (named || change.source === 'snapshot') update(read());
        });
        update(read());
        return stop;
      },
      same: (a, b) => (a === undefined || b === undefined ? a === b : sameRowValues(a, b)),
    };
  }, [database, name, schema, stableKey(key)]);
}
