// The SQLite ReplicaStore (better-sqlite3, synchronous): prepared statements only, one
// transaction per engine write, WAL with synchronous=FULL (see schema.ts).
import Database from 'better-sqlite3';
import { isCanonicalPk, pkText } from '../replica/pk-key.js';
import type {
  MigrationKind,
  PruneResult,
  ReplicaStore,
  RowVersions,
  SnapshotReader,
  StoredCell,
  StoredFact,
  StoredMigration,
  StoredTombstone,
  TableRef,
  WatermarkRecord,
} from '../replica/store.js';
import { encodeSqlValues } from '../wire/sql-value.js';
import { configureWriter } from './schema.js';
import {
  CELL_COLUMNS,
  FACT_SELECT,
  MIGRATION_COLUMNS,
  PkDecoder,
  TableDirectory,
  toCell,
  toFact,
  toMigration,
  type CellRow,
  type FactRow,
  type MigrationRow,
} from './rows.js';
import { SqliteSnapshotReader } from './sqlite-snapshot.js';
import { asBytes, storedTag, storedValue } from './value-codec.js';
import { WatermarkTable } from './watermark-table.js';

const NO_BYTES = new Uint8Array(0);
const LIST_PAGE = 1000;

/** Every statement of the store, prepared once per connection. */
function prepareStatements(db: Database.Database) {
  return {
    getMeta: db.prepare<[string], string>('SELECT value FROM meta WHERE key = ?').pluck(),
    setMeta: db.prepare('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)'),
    deleteMeta: db.prepare('DELETE FROM meta WHERE key = ?'),
    findTable: db.prepare<[string, string], number>('SELECT id FROM tables WHERE schema = ? AND name = ?').pluck(),
    addTable: db.prepare('INSERT INTO tables (schema, name) VALUES (?, ?)'),
    rowCellHlcs: db
      .prepare<[number, string], [string, Uint8Array]>('SELECT col, hlc FROM cells WHERE tbl = ? AND pk = ?')
      .raw(),
    rowTombstoneHlc: db
      .prepare<[number, string], Uint8Array>('SELECT hlc FROM tombstones WHERE tbl = ? AND pk = ?')
      .pluck(),
    putCell: db.prepare(
      'INSERT OR REPLACE INTO cells (seq, tbl, pk, col, hlc, v, vt, pkx) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    ),
    putTombstone: db.prepare(
      'INSERT OR REPLACE INTO tombstones (seq, tbl, pk, hlc, created, prior, pkx) VALUES (?, ?, ?, ?, ?, ?, ?)',
    ),
    deleteRow: db.prepare('DELETE FROM cells WHERE tbl = ? AND pk = ?'),
    deleteRowUpTo: db.prepare('DELETE FROM cells WHERE tbl = ? AND pk = ? AND hlc <= ?'),
    getMigrationHlc: db
      .prepare<[string, string, string, number], Uint8Array>(
        'SELECT hlc FROM migrations WHERE schema = ? AND kind = ? AND name = ? AND version = ?',
      )
      .pluck(),
    putMigration: db.prepare(
      'INSERT OR REPLACE INTO migrations (seq, schema, kind, name, version, type, ddl, hlc, from_table) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
    ),
    listMigrations: db.prepare<[], MigrationRow>(`SELECT ${MIGRATION_COLUMNS} FROM migrations`).raw(),
    scanAfter: db
      .prepare<{ after: Uint8Array; site: Uint8Array }, FactRow>(
        `${FACT_SELECT.cells} WHERE hlc > @after AND substr(hlc, 11, 16) <> @site
         UNION ALL ${FACT_SELECT.tombstones} WHERE hlc > @after AND substr(hlc, 11, 16) <> @site
         ORDER BY hlc`,
      )
      .raw(),
    // `+hlc` keeps the planner on the rowid (seq) range instead of the hlc index.
    scanLate: db
      .prepare<{ seq: number; below: Uint8Array; site: Uint8Array }, FactRow>(
        `${FACT_SELECT.cells} WHERE seq > @seq AND +hlc < @below AND substr(hlc, 11, 16) <> @site
         UNION ALL ${FACT_SELECT.tombstones} WHERE seq > @seq AND +hlc < @below AND substr(hlc, 11, 16) <> @site`,
      )
      .raw(),
    rowCells: db.prepare<[number, string], CellRow>(`SELECT ${CELL_COLUMNS} FROM cells WHERE tbl = ? AND pk = ?`).raw(),
    listPage: db
      .prepare<[number, string, string, number], CellRow>(
        `SELECT ${CELL_COLUMNS} FROM cells WHERE tbl = ? AND (pk, col) > (?, ?) ORDER BY pk, col LIMIT ?`,
      )
      .raw(),
    tableHasFacts: db
      .prepare<[number, number], number>(
        'SELECT EXISTS (SELECT 1 FROM cells WHERE tbl = ?) OR EXISTS (SELECT 1 FROM tombstones WHERE tbl = ?)',
      )
      .pluck(),
    tableHasMigration: db
      .prepare<[string, string], number>(
        "SELECT EXISTS (SELECT 1 FROM migrations WHERE kind = 'table' AND schema = ? AND name = ?)",
      )
      .pluck(),
    pruneStats: db
      .prepare<[number], [number, number | null, Uint8Array | null]>(
        'SELECT count(*), max(seq), max(hlc) FROM tombstones WHERE created < ?',
      )
      .raw(),
    prune: db.prepare('DELETE FROM tombstones WHERE created < ?'),
    clearCells: db.prepare('DELETE FROM cells WHERE tbl = ?'),
    clearTombstones: db.prepare('DELETE FROM tombstones WHERE tbl = ?'),
    clearMigrations: db.prepare('DELETE FROM migrations'),
  };
}

export class SqliteReplicaStore implements ReplicaStore {
  readonly db: Database.Database;
  private readonly tables: TableDirectory;
  private readonly watermarks: WatermarkTable;
  private readonly readers = new Set<SqliteSnapshotReader>();
  private inTransaction = false;
  private readonly runTx: Database.Transaction<(fn: () => unknown) => unknown>;
  private readonly s: ReturnType<typeof prepareStatements>;

  constructor(readonly path: string) {
    if (path === ':memory:' || path === '') {
      throw new Error(
        'SqliteReplicaStore needs a file path (snapshots read through a second connection); use openMemoryReplica for memory',
      );
    }
    this.db = new Database(path);
    try {
      configureWriter(this.db);
    } catch (err) {
      this.db.close();
      throw err;
    }
    const db = this.db;
    this.s = prepareStatements(db);
    this.runTx = db.transaction((fn: () => unknown) => fn());
    this.tables = new TableDirectory(db);
    this.watermarks = new WatermarkTable(db);
  }

  transaction<T>(fn: () => T): T {
    if (this.inTransaction) throw new Error('SqliteReplicaStore transactions do not nest');
    this.inTransaction = true;
    try {
      return this.runTx.immediate(fn) as T;
    } catch (err) {
      this.tables.reload(); // ids handed out by the rolled-back transaction no longer exist
      throw err;
    } finally {
      this.inTransaction = false;
    }
  }

  private idOf(table: TableRef): number {
    const known = this.tables.idOf(table);
    if (known !== undefined) return known;
    let id = this.s.findTable.get(table.schema, table.table);
    if (id === undefined) {
      id = Number(this.s.addTable.run(table.schema, table.table).lastInsertRowid);
    }
    this.tables.remember(table, id);
    return id;
  }

  getMeta(key: string): string | undefined {
    return this.s.getMeta.get(key);
  }
  setMeta(key: string, value: string): void {
    this.s.setMeta.run(key, value);
  }
  deleteMeta(key: string): void {
    this.s.deleteMeta.run(key);
  }

  rowVersions(table: TableRef, pkKey: string): RowVersions {
    const id = this.tables.idOf(table);
    const cells = new Map<string, Uint8Array>();
    if (id === undefined) return { cells };
    for (const [col, hlc] of this.s.rowCellHlcs.all(id, pkKey)) cells.set(col, hlc);
    const tombstone = this.s.rowTombstoneHlc.get(id, pkKey);
    return tombstone ? { cells, tombstone } : { cells };
  }

  putCell(c: StoredCell): void {
    const pkx = isCanonicalPk(c.pk) ? null : pkText(c.pk);
    this.s.putCell.run(
      c.seq,
      this.idOf(c.table),
      c.pkKey,
      c.column,
      c.hlc,
      storedValue(c.value),
      storedTag(c.value),
      pkx,
    );
  }

  putTombstone(t: StoredTombstone): void {
    const prior = t.priorRow ? JSON.stringify(encodeSqlValues(t.priorRow)) : null;
    const pkx = isCanonicalPk(t.pk) ? null : pkText(t.pk);
    this.s.putTombstone.run(t.seq, this.idOf(t.table), t.pkKey, t.hlc, t.createdAt, prior, pkx);
  }

  deleteRowCells(table: TableRef, pkKey: string, upTo?: Uint8Array): void {
    const id = this.tables.idOf(table);
    if (id === undefined) return;
    if (upTo) this.s.deleteRowUpTo.run(id, pkKey, upTo);
    else this.s.deleteRow.run(id, pkKey);
  }

  getMigrationHlc(schema: string, kind: MigrationKind, name: string, schemaVersion: number): Uint8Array | undefined {
    return this.s.getMigrationHlc.get(schema, kind, name, schemaVersion);
  }
  putMigration(m: StoredMigration): void {
    this.s.putMigration.run(
      m.seq,
      m.schema,
      m.kind,
      m.table,
      m.schemaVersion,
      m.type,
      m.ddl,
      m.hlc,
      m.fromTable ?? null,
    );
  }
  listMigrations(): StoredMigration[] {
    return this.s.listMigrations.all().map(toMigration);
  }

  *scanAfterHlc(after: Uint8Array | undefined, excludeSite: Uint8Array | undefined): Iterable<StoredFact> {
    const pks = new PkDecoder();
    for (const r of this.s.scanAfter.iterate({ after: after ?? NO_BYTES, site: excludeSite ?? NO_BYTES })) {
      yield toFact(r, this.tables, pks);
    }
  }

  scanLate(afterSeq: number, below: Uint8Array, excludeSite: Uint8Array | undefined): StoredFact[] {
    const pks = new PkDecoder();
    return this.s.scanLate
      .all({ seq: afterSeq, below, site: excludeSite ?? NO_BYTES })
      .map((r) => toFact(r, this.tables, pks));
  }

  rowCells(table: TableRef, pkKey: string): StoredCell[] {
    const id = this.tables.idOf(table);
    if (id === undefined) return [];
    const pks = new PkDecoder();
    return this.s.rowCells.all(id, pkKey).map((r) => toCell(r, this.tables, pks));
  }

  /** Pages by key, so no statement stays open while the caller works between rows. */
  *listRows(table: TableRef): Iterable<StoredCell[]> {
    const id = this.tables.idOf(table);
    if (id === undefined) return;
    const pks = new PkDecoder();
    let row: StoredCell[] = [];
    let after = { pk: '', col: '' };
    for (;;) {
      const page = this.s.listPage.all(id, after.pk, after.col, LIST_PAGE);
      for (const r of page) {
        const cell = toCell(r, this.tables, pks);
        if (row.length > 0 && row[0]!.pkKey !== cell.pkKey) {
          yield row;
          row = [];
        }
        row.push(cell);
      }
      if (page.length < LIST_PAGE) break;
      const last = page[page.length - 1]!;
      after = { pk: last[2], col: last[4] };
    }
    if (row.length > 0) yield row;
  }

  hasTable(schema: string, table: string): boolean {
    const id = this.s.findTable.get(schema, table);
    if (id !== undefined && this.s.tableHasFacts.get(id, id) === 1) return true;
    return this.s.tableHasMigration.get(schema, table) === 1;
  }

  pruneTombstones(createdBefore: number): PruneResult {
    const [removed, maxSeq, maxHlc] = this.s.pruneStats.get(createdBefore)!;
    if (removed === 0 || maxHlc === null) return { removed: 0, maxSeq: 0 };
    this.s.prune.run(createdBefore);
    return { removed, maxSeq: maxSeq ?? 0, maxHlc: asBytes(maxHlc) };
  }

  clearForSnapshot(keep: (table: TableRef) => boolean): void {
    this.s.clearMigrations.run();
    for (const ref of this.tables.refs()) {
      if (keep(ref)) continue;
      const id = this.tables.idOf(ref)!;
      this.s.clearCells.run(id);
      this.s.clearTombstones.run(id);
    }
  }

  listWatermarks(site: Uint8Array): WatermarkRecord[] {
    return this.watermarks.list(site);
  }
  putWatermark(record: WatermarkRecord): void {
    this.watermarks.put(record);
  }
  deleteWatermark(site: Uint8Array, hlc: Uint8Array): void {
    this.watermarks.delete(site, hlc);
  }
  watermarkSiteCount(): number {
    return this.watermarks.siteCount();
  }
  leastRecentWatermarkSite(): Uint8Array | undefined {
    return this.watermarks.leastRecentSite();
  }
  deleteWatermarkSite(site: Uint8Array): void {
    this.watermarks.deleteSite(site);
  }
  deleteWatermarksUsedBefore(usedBefore: number): void {
    this.watermarks.deleteUsedBefore(usedBefore);
  }

  openSnapshotReader(): SnapshotReader {
    const reader = new SqliteSnapshotReader(this.path, () => this.readers.delete(reader));
    this.readers.add(reader);
    return reader;
  }

  close(): void {
    for (const r of [...this.readers]) r.close();
    if (this.db.open) this.db.close();
  }
}
