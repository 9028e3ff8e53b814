// A live query: the listener gets the current rows at once, then again after every change event
// that touches the table and changes the result. One change event is one local transaction, one
// applied batch of remote change sets, or one whole snapshot, so a burst of facts (a transaction
// of many rows, a catch-up page) costs one re-read and at most one callback.
import { sqlValuesEqual, type SqlValue } from '@syncord/core';
import type { ChangeListener, DatabaseChange } from './change-events.js';
import type { QueriedEntry } from './query.js';

export interface WatchTarget {
  readonly schema: string;
  readonly table: string;
  /** Runs the query now. */
  read(): QueriedEntry<Record<string, SqlValue>>[];
  subscribe(listener: ChangeListener): () => void;
}

/** Starts a live query; returns the function that stops it. */
export function watchRows<R>(target: WatchTarget, listener: (rows: R[]) => void): () => void {
  let last = target.read();
  listener(last.map((e) => e.row as R));
  return target.subscribe((change) => {
    if (!touches(change, target.schema, target.table)) return;
    const next = target.read();
    if (sameEntries(last, next)) return;
    last = next;
    listener(next.map((e) => e.row as R));
  });
}

function touches(change: DatabaseChange, schema: string, table: string): boolean {
  // A snapshot replaced everything and lists no rows.
  if (change.source === 'snapshot') return true;
  const here = (x: { schema: string; table?: string }): boolean => x.schema === schema && x.table === table;
  return change.rows.some(here) || change.migrations.some(here);
}

function sameEntries(a: readonly QueriedEntry<Record<string, SqlValue>>[], b: typeof a): boolean {
  return a.length === b.length && a.every((e, i) => sameRow(e, b[i]!));
}

function sameRow(a: QueriedEntry<Record<string, SqlValue>>, b: QueriedEntry<Record<string, SqlValue>>): boolean {
  if (a.key.length !== b.key.length || !a.key.every((v, i) => sqlValuesEqual(v, b.key[i]!))) return false;
  return sameRowValues(a.row, b.row);
}

/** The same columns holding the same values, as the app reads them (for live views that skip no-op updates). */
export function sameRowValues(a: Readonly<Record<string, SqlValue>>, b: Readonly<Record<string, SqlValue>>): boolean {
  const ak = Object.keys(a);
  const bk = Object.keys(b);
  // A number and a bigint of equal value are equal to sqlValuesEqual, but not to the app reading them.
  return ak.length === bk.length && ak.every((k) => k in b && sameValue(a[k]!, b[k]!));
}

function sameValue(x: SqlValue, y: SqlValue): boolean {
  return typeof x === typeof y && sqlValuesEqual(x, y);
}
