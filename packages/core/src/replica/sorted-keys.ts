// Ordering helpers for the memory store and its snapshot copy (keys compare as plain strings).
import type { StoredCell } from './store.js';

export const byString = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Index of the first key strictly after `after` in sorted `keys`. */
export function firstAfter(keys: readonly string[], after: string | undefined): number {
  if (after === undefined) return 0;
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (keys[mid]! <= after) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export function sortedCells(row: ReadonlyMap<string, StoredCell>): StoredCell[] {
  return [...row.values()].sort((a, b) => byString(a.column, b.column));
}

export function sortedKeys(map: ReadonlyMap<string, unknown>): string[] {
  return [...map.keys()].sort(byString);
}
