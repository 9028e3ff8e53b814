// The storage contract under the merge engine. Every method is synchronous so that one merge can
// compare and write inside one transaction with no `await` in between (DESIGN.md "Where we go
// past", item 0). Stores only store: LWW, tombstone and HLC rules live in the engine, once.
//
// HLCs are held as their 30-byte big-endian form, whose byte order is HLC order, so stores can
// index and compare them without decoding. `seq` is the per-database arrival sequence that the
// engine assigns to every fact it writes (gap-free catch-up, DESIGN.md item 1).
import type { MigrationType, SqlValue } from '../wire/types.js';
import type { OutboxEntry, OutboxStats } from './replica-api.js';

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

/** A fact as "changes since" reads it; its HLC is its transaction's base plus `opSeq`. */
export type ScannedFact =
  | {
      readonly kind: 'cell';
      readonly table: TableRef;
      readonly pk: readonly SqlValue[];
      readonly column: string;
      readonly value: SqlValue;
      readonly opSeq: number;
    }
  | {
      readonly kind: 'tombstone';
      readonly table: TableRef;
      readonly pk: readonly SqlValue[];
      readonly opSeq: number;
      readonly priorRow?: readonly SqlValue[];
    };

/**
 * Facts of one transaction that a scan selected, in any order. A scan may split a transaction
 * into consecutive runs with equal bases (one per stored record, say); a consumer joins them.
 */
export interface ScannedTx {
  /** Bytes 0..25 of the facts' HLCs: (wallTime, counter, siteId). */
  readonly base: Uint8Array;
  readonly facts: ScannedFact[];
}

/** One table's live contents, counted (for operator views; a full count, so never on a hot path). */
export interface TableStats {
  readonly table: TableRef;
  /** Rows with at least one live cell. */
  readonly rows: number;
  readonly cells: number;
  readonly tombstones: number;
}

/** What a merge writes to one row, applied in this order. */
export interface RowWrite {
  readonly pkKey: string;
  /** Replaces the row's tombstone. */
  readonly tombstone?: StoredTombstone;
  /** Deletes existing cells: all of them, or those whose HLC ≤ the given one. */
  readonly clear?: 'all' | Uint8Array;
  /** New cell versions; each replaces the stored cell of its column. */
  readonly cells: readonly StoredCell[];
}

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
  /** How many live cells `table` holds: what its table section will stream, counted without reading it. */
  cellCount(table: TableRef): number;
  /** How many rows of `table` have a live cell: the header's `rowCount` sums these up front. */
  rowCount(table: TableRef): number;
  /** See ReplicaStore.rowPage. */
  rowPage(table: TableRef, afterPkKey: string | undefined, maxRows: number): StoredCell[][];
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
  /**
   * Runs `fn` atomically: when it throws, the store is exactly as before. Not re-entrant. With
   * `durable: false` the commit may skip syncing to disk (it stays atomic and ordered).
   */
  transaction<T>(fn: () => T, options?: { durable?: boolean }): T;
  /**
   * Inside a transaction only: runs `fn` as a nested atomic step (a SAVEPOINT). When it throws,
   * what it wrote is undone and the enclosing transaction goes on; the error is rethrown.
   */
  savepoint<T>(fn: () => T): T;

  getMeta(key: string): string | undefined;
  setMeta(key: string, value: string): void;
  deleteMeta(key: string): void;

  /**
   * Cell HLCs and tombstones of many rows of one table (rows without any come back empty): the
   * only read a merge needs. Batched so a store can answer with few round trips.
   */
  loadRows(table: TableRef, pkKeys: readonly string[]): Map<string, RowVersions>;
  /** The merge's writes for rows of one table, batched for the same reason. */
  writeRows(table: TableRef, rows: readonly RowWrite[]): void;

  getMigrationHlc(schema: string, kind: MigrationKind, name: string, schemaVersion: number): Uint8Array | undefined;
  /** The whole record at that key (when a caller must compare its content, not only its HLC). */
  getMigration(schema: string, kind: MigrationKind, name: string, schemaVersion: number): StoredMigration | undefined;
  /** Insert or replace the migration at (schema, kind, table, schemaVersion). */
  putMigration(migration: StoredMigration): void;
  listMigrations(): StoredMigration[];

  /**
   * Cells and tombstones with HLC > `after` (all when undefined), minus those whose HLC site is
   * `excludeSite`, as transactions ascending by base (each whole, though maybe split into
   * consecutive runs), lazily (a batch bound stops early).
   * The caller finishes or `return()`s the iterator before writing. `expectedFacts` says how many
   * facts the caller will probably take, so a store can size its reads.
   */
  scanAfterHlc(
    after: Uint8Array | undefined,
    excludeSite: Uint8Array | undefined,
    expectedFacts?: number,
  ): Iterable<ScannedTx>;
  /**
   * Cells and tombstones with seq > `afterSeq`, base > `afterBase` (bytes 0..25; all when
   * undefined) and HLC < `below`, minus `excludeSite`, as transactions ascending by base, lazily,
   * under the same contract as scanAfterHlc.
   */
  scanLate(
    afterSeq: number,
    afterBase: Uint8Array | undefined,
    below: Uint8Array,
    excludeSite: Uint8Array | undefined,
    expectedFacts?: number,
  ): Iterable<ScannedTx>;

  rowCells(table: TableRef, pkKey: string): StoredCell[];
  /** Up to `maxRows` rows with live cells after `afterPkKey`, in pk-key order, cells by column. */
  rowPage(table: TableRef, afterPkKey: string | undefined, maxRows: number): StoredCell[][];
  /** Any live cell, tombstone or table-kind migration for it. */
  hasTable(schema: string, table: string): boolean;
  /** Every table holding live cells or tombstones, in table-key order, with its counts. */
  tableStats(): TableStats[];

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
  /** Deletes the site's records and its floor. */
  deleteWatermarkSite(site: Uint8Array): void;
  /**
   * Deletes records unused since `usedBefore`, and the floors of sites left without records;
   * returns the highest HLC among what it deleted (records and floors).
   */
  deleteWatermarksUsedBefore(usedBefore: number): Uint8Array | undefined;
  /** The highest HLC of a record forgotten for `site` while it kept others (see watermarks.ts). */
  getWatermarkFloor(site: Uint8Array): Uint8Array | undefined;
  setWatermarkFloor(site: Uint8Array, hlc: Uint8Array): void;

  openSnapshotReader(): SnapshotReader;

  /** Appends a record to the outbox (inside a transaction, so it commits with the writes). */
  outboxAdd(body: string, createdAt: number): void;
  /** Up to `limit` entries, oldest first. */
  outboxPeek(limit: number): OutboxEntry[];
  /** Removes one entry; an unknown id is ignored. */
  outboxDelete(id: number): void;
  outboxStats(): OutboxStats;
  /**
   * Copies the whole store, consistent as of one moment, into a new file while it stays open
   * (absent when the store has no file form).
   */
  backupTo?(file: string): Promise<void>;
  close(): void;
}

export function tableRef(schema: string, table: string): TableRef {
  return { schema, table, key: JSON.stringify([schema, table]) };
}

export function migrationKind(type: MigrationType): MigrationKind {
  return type === 'add_index' || type === 'drop_index' ? 'index' : 'table';
}
