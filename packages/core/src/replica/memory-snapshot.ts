// The memory store's consistent read: a sorted copy taken when the reader opens. Stored objects
// are never mutated in place (a write replaces them), so copying references is enough.
import { compareBytes } from '../clock/bytes.js';
import { META } from './engine.js';
import type { MemoryReplicaStore } from './memory-store.js';
import type {
  CellCursor,
  SnapshotReader,
  StoredCell,
  StoredMigration,
  StoredTombstone,
  TableRef,
  TombstoneCursor,
} from './store.js';

const byString = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Index of the first element strictly after the cursor (elements sorted by `cmp`). */
function firstAfter<T>(items: readonly T[], cmpToCursor: (item: T) => number): number {
  let lo = 0;
  let hi = items.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (cmpToCursor(items[mid]!) <= 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export class MemorySnapshotReader implements SnapshotReader {
  readonly lastSeq: number;
  private readonly tables: { ref: TableRef; cells: StoredCell[] }[];
  private readonly tombstones: StoredTombstone[];
  private readonly migrationList: StoredMigration[];

  constructor(store: MemoryReplicaStore) {
    this.lastSeq = Number(store.getMeta(META.lastSeq) ?? '0');
    this.tables = [...store.cells.values()]
      .sort((a, b) => byString(a.ref.key, b.ref.key))
      .map((t) => ({
        ref: t.ref,
        cells: [...t.rows.keys()]
          .sort(byString)
          .flatMap((pk) => [...t.rows.get(pk)!.values()].sort((a, b) => byString(a.column, b.column))),
      }));
    this.tombstones = [...store.tombstones.values()]
      .sort((a, b) => byString(a.ref.key, b.ref.key))
      .flatMap((t) => [...t.rows.keys()].sort(byString).map((pk) => t.rows.get(pk)!));
    this.migrationList = [...store.migrations.values()].sort((a, b) => compareBytes(a.hlc, b.hlc));
  }

  tablesWithCells(): TableRef[] {
    return this.tables.map((t) => t.ref);
  }

  cellPage(table: TableRef, after: CellCursor | undefined, limit: number): StoredCell[] {
    const cells = this.tables.find((t) => t.ref.key === table.key)?.cells ?? [];
    const from = after
      ? firstAfter(cells, (c) => byString(c.pkKey, after.pkKey) || byString(c.column, after.column))
      : 0;
    return cells.slice(from, from + limit);
  }

  tombstonePage(after: TombstoneCursor | undefined, limit: number): StoredTombstone[] {
    const from = after
      ? firstAfter(this.tombstones, (t) => byString(t.table.key, after.table.key) || byString(t.pkKey, after.pkKey))
      : 0;
    return this.tombstones.slice(from, from + limit);
  }

  migrations(): StoredMigration[] {
    return this.migrationList;
  }

  close(): void {}
}
