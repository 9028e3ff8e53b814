// The storage contract under the merge engine. Every method is synchronous so that one merge can
// compare and write inside one transaction with no `await` in between (DESIGN.md "Where we go
// past", item 0). Stores only store: LWW, tombstone and HLC rules live in the engine, once.
//
// HLCs are held as their 30-byte big-endian form, whose byte order is HLC order, so stores can
// index and compare them without decoding. `seq` is the per-database arrival sequence that the
// engine assigns to every fact it writes (gap-free catch-up, DESIGN.md item 1).
import type { MigrationType, SqlValue } from '../wire/types.js';

/** A (schema, table) pair with its unambiguous key. Build it with `tableRef`. */
export interface TableRef {
  readonly schema: string;
  readonly table: string;
  /** JSON `[schema, table]`: unambiguous whatever characters the names hold. */
  readonly key: string;
}

export interface StoredCell {
  readonly table: TableRef;
  /** Canonical row identity (see pk-key.ts). */
  readonly pkKey: string;
  /** The pk exactly as it arrived with this fact. */
  readonly pk: readonly SqlValue[];
  readonly column: string;
  readonly value: SqlValue;
  readonly hlc: Uint8Array;
  readonly seq: number;
}

export interface StoredTombstone {
  readonly table: TableRef;
  readonly pkKey: string;
  readonly pk: readonly SqlValue[];
  readonly hlc: Uint8Array;
  readonly seq: number;
  /** Local ms time the tombstone was stored; drives retention. */
  readonly createdAt: number;
  readonly priorRow?: readonly SqlValue[];
}

export type MigrationKind = 'table' | 'index';

export interface StoredMigration {
  readonly type: MigrationType;
  readonly kind: MigrationKind;
  readonly schema: string;
  /** The object name after the change (the INDEX name for index kinds). */
  readonly table: string;
  readonly ddl: string;
  readonly hlc: Uint8Array;
  readonly schemaVersion: number;
  readonly fromTable?: string;
  readonly seq: number;
}

export type StoredFact = ({ readonly kind: 'cell' } & StoredCell) | ({ readonly kind: 'tombstone' } & StoredTombstone);

/** The stored versions of one row that a merge compares against. */
export interface RowVersions {
  /** column → HLC of the stored cell. */
  readonly cells: ReadonlyMap<string, Uint8Array>;
  readonly tombstone?: Uint8Array;
}

/** One handed-out watermark: every fact with seq ≤ coveredSeq and hlc ≤ `hlc` reached `site`. */
export interface WatermarkRecord {
  readonly site: Uint8Array;
  readonly hlc: Uint8Array;
  readonly coveredSeq: number;
  /** ms time of last use (retention). */
  readonly usedAt: number;
  /** Monotonic use counter (exact LRU order even when the clock stands still). */
  readonly useSeq: number;
}

/** Where a cell page resumes: strictly after this (pkKey, column). */
export interface CellCursor {
  readonly pkKey: string;
  readonly column: string;
}

/** Where a tombstone page resumes: strictly after this (table, pkKey) in the store's order. */
export interface TombstoneCursor {
  readonly table: TableRef;
  readonly pkKey: string;
}

/** One consistent read of the whole store; writes made after it opened are invisible to it. */
export interface SnapshotReader {
  /** The arrival sequence at the moment of the read. */
  readonly lastSeq: number;
  /** Tables with at least one live cell, in store-key order. */
  tablesWithCells(): TableRef[];
  cellPage(table: TableRef, after: CellCursor | undefined, limit: number): StoredCell[];
  /** Ordered by table then pk, so each table's tombstones are contiguous. */
  tombstonePage(after: TombstoneCursor | undefined, limit: number): StoredTombstone[];
  migrations(): StoredMigration[];
  close(): void;
}

export interface PruneResult {
  readonly removed: number;
  /** Largest seq and HLC among the removed tombstones (when any were removed). */
  readonly maxSeq: number;
  readonly maxHlc?: Uint8Array;
}

export interface ReplicaStore {
  /** Runs `fn` atomically: when it throws, the store is exactly as before. Not re-entrant. */
  transaction<T>(fn: () => T): T;

  getMeta(key: string): string | undefined;
  setMeta(key: string, value: string): void;
  deleteMeta(key: string): void;

  /** Cell HLCs and tombstone of one row: the only read a merge needs. */
  rowVersions(table: TableRef, pkKey: string): RowVersions;
  /** Insert or replace the cell at (table, pkKey, column). */
  putCell(cell: StoredCell): void;
  /** Insert or replace the tombstone of (table, pkKey). */
  putTombstone(tombstone: StoredTombstone): void;
  /** Deletes the row's cells; with `upTo`, only those whose HLC ≤ upTo. */
  deleteRowCells(table: TableRef, pkKey: string, upTo?: Uint8Array): void;

  getMigrationHlc(schema: string, kind: MigrationKind, name: string, schemaVersion: number): Uint8Array | undefined;
  /** Insert or replace the migration at (schema, kind, table, schemaVersion). */
  putMigration(migration: StoredMigration): void;
  listMigrations(): StoredMigration[];

  /**
   * Cells and tombstones with HLC > `after` (all when undefined), ascending by HLC, lazily, minus
   * those whose HLC site is `excludeSite`. The caller finishes or `return()`s the iterator before
   * writing.
   */
  scanAfterHlc(after: Uint8Array | undefined, excludeSite: Uint8Array | undefined): Iterable<StoredFact>;
  /** Cells and tombstones with seq > `afterSeq` and HLC < `below`, minus `excludeSite`; any order. */
  scanLate(afterSeq: number, below: Uint8Array, excludeSite: Uint8Array | undefined): StoredFact[];

  rowCells(table: TableRef, pkKey: string): StoredCell[];
  /** Live cells of a table grouped per row, rows in pk-key order. */
  listRows(table: TableRef): Iterable<StoredCell[]>;
  /** Any live cell, tombstone or table-kind migration for it. */
  hasTable(schema: string, table: string): boolean;

  /** Deletes tombstones with createdAt < `createdBefore`. */
  pruneTombstones(createdBefore: number): PruneResult;
  /** Snapshot bootstrap: deletes every migration, and the cells and tombstones of tables not kept. */
  clearForSnapshot(keep: (table: TableRef) => boolean): void;

  listWatermarks(site: Uint8Array): WatermarkRecord[];
  /** Insert or replace the record at (site, hlc). */
  putWatermark(record: WatermarkRecord): void;
  deleteWatermark(site: Uint8Array, hlc: Uint8Array): void;
  watermarkSiteCount(): number;
  /** The site whose most recent use is oldest. */
  leastRecentWatermarkSite(): Uint8Array | undefined;
  deleteWatermarkSite(site: Uint8Array): void;
  deleteWatermarksUsedBefore(usedBefore: number): void;

  openSnapshotReader(): SnapshotReader;
  close(): void;
}

export function tableRef(schema: string, table: string): TableRef {
  return { schema, table, key: JSON.stringify([schema, table]) };
}

export function migrationKind(type: MigrationType): MigrationKind {
  return type === 'add_index' || type === 'drop_index' ? 'index' : 'table';
}
