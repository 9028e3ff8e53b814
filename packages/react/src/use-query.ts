// useQuery: a table's rows (filtered, ordered, windowed) that re-render the component whenever a
// local write, a synced change or a snapshot changes the result. Built on LocalDatabase.watch,
// which already re-reads only for changes that touch the table and reports only real changes.
import {
  sameRowValues,
  type ListOptions,
  type QueryOptions,
  type Row,
  type RowOf,
  type Table,
  type TableDefinition,
} from '@syncord/client';
import { useSyncord } from './context.js';
import { stableKey, useLiveValue } from './live-value.js';

/** Rows of a declared table, typed from its declaration. */
export function useQuery<D extends TableDefinition>(table: Table<D>, options?: QueryOptions<RowOf<D>>): RowOf<D>[];
/** Rows of a table by name (declared or not). */
export function useQuery(table: string, options?: ListOptions): Row[];
export function useQuery(table: string | Table, options: ListOptions = {}): Row[] {
  const { database } = useSyncord('useQuery');
  const name = typeof table === 'string' ? table : table.name;
  const query: ListOptions = typeof table === 'string' ? options : { ...options, schema: table.schema };
  return useLiveValue(
    () => ({
      read: () => database.list(name, query),
      watch: (update) => database.watch(name, query, update),
      same: (a, b) => a.length === b.length && a.every((row, i) => sameRowValues(row, b[i]!)),
    }),
    [database, name, stableKey(query)],
  );
}
