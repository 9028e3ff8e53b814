// The memory store's consistent read: a sorted copy taken when the reader opens. Stored objects
// are never mutated in place (a write replaces them), so copying references is enough.
import { compareBytes } from '../clock/bytes.js';
import { META } from './engine.js';
import type { MemoryReplicaStore } from './memory-store.js';
import { byString, firstAfter, sortedCells, sortedKeys } from './sorted-keys.js';
import type {
  SnapshotReader,
  StoredCell,
  StoredMigration,
  StoredTombstone,
  TableRef,
  TombstoneCursor,
} from './store.js';

export class MemorySnapshotReader implements SnapshotReader {
  readonly lastSeq: number;
  private readonly tables: { ref: TableRef; keys: string[]; rows: StoredCell[][] }[];
  private readonly tombstones: StoredTombstone[];
  private readonly migrationList: StoredMigration[];

  constructor(store: MemoryReplicaStore) {
    this.lastSeq = Number(store.getMeta(META.lastSeq) ?? '0');
    this.tables = [...store.cells.values()]
      .sort((a, b) => byString(a.ref.key, b.ref.key))
      .map((t) => {
        const keys = sortedKeys(t.rows);
        return { ref: t.ref, keys, rows: keys.map((k) => sortedCells(t.rows.get(k)!)) };
      });
    this.tombstones = [...store.tombstones.values()]
      .sort((a, b) => byString(a.ref.key, b.ref.key))
      .flatMap((t) => [...t.rows.keys()].sort(byString).map((pk) => t.rows.get(pk)!));
    this.migrationList = [...store.migrations.values()].sort((a, b) => compareBytes(a.hlc, b.hlc));
  }

  tablesWithCells(): TableRef[] {
    return this.tables.map((t) => t.ref);
  }

  cellCount(table: TableRef): number {
    let n = 0;
    for (const row of this.tables.find((x) => x.ref.key === table.key)?.rows ?? []) n += row.length;
    return n;
  }

  rowCount(table: TableRef): number {
    return this.tables.find((x) => x.ref.key === table.key)?.rows.length ?? 0;
  }

  rowPage(table: TableRef, afterPkKey: string | undefined, maxRows: number): StoredCell[][] {
    const t = this.tables.find((x) => x.ref.key === table.key);
    if (!t) return [];
    const from = firstAfter(t.keys, afterPkKey);
    return t.rows.slice(from, from + maxRows);
  }

  tombstonePage(after: TombstoneCursor | undefined, limit: number): StoredTombstone[] {
    let from = 0;
    if (after) {
      // first tombstone strictly after (table key, pk key)
      let hi = this.tombstones.length;
      while (from < hi) {
        const mid = (from + hi) >>> 1;
        const t = this.tombstones[mid]!;
        if ((byString(t.table.key, after.table.key) || byString(t.pkKey, after.pkKey)) <= 0) from = mid + 1;
        else hi = mid;
      }
    }
    return this.tombstones.slice(from, from + limit);
  }

  migrations(): StoredMigration[] {
    return this.migrationList;
  }

  close(): void {}
}
