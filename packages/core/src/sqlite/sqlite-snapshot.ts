// A consistent read for snapshots: a separate read-only connection holding one read
// transaction (WAL keeps its view stable while the writer commits), closed with the stream.
import Database from 'better-sqlite3';
import { META } from '../replica/engine.js';
import type {
  SnapshotReader,
  StoredCell,
  StoredMigration,
  StoredTombstone,
  TableRef,
  TombstoneCursor,
} from '../replica/store.js';
import { RowPager } from './row-page.js';
import {
  MIGRATION_COLUMNS,
  PkDecoder,
  TableDirectory,
  TOMBSTONE_COLUMNS,
  toMigration,
  toTombstone,
  type MigrationRow,
  type TombstoneRow,
} from './rows.js';

/**
 * Page cache of a snapshot's connection, KiB. A snapshot reads each page about once, so a cache
 * buys it little, while better-sqlite3's default (16 MB) would fill with the file and stay
 * resident for the whole stream, beside the writer's own cache: most of the RSS a snapshot added.
 */
const SNAPSHOT_CACHE_KIB = 2048;

export class SqliteSnapshotReader implements SnapshotReader {
  readonly lastSeq: number;
  private readonly db: Database.Database;
  private readonly tables: TableDirectory;
  private readonly pks = new PkDecoder();
  private readonly pager: RowPager;
  private readonly counted = new Map<number, [number, number]>();
  private readonly s;

  constructor(
    path: string,
    private readonly onClose: () => void,
  ) {
    this.db = new Database(path, { readonly: true, fileMustExist: true });
    try {
      this.db.pragma('busy_timeout = 5000');
      this.db.pragma(`cache_size = -${SNAPSHOT_CACHE_KIB}`);
      this.db.exec('BEGIN');
      // The first read fixes the transaction's view of the database.
      const seq = this.db.prepare<[string], string>('SELECT value FROM meta WHERE key = ?').pluck().get(META.lastSeq);
      this.lastSeq = Number(seq ?? '0');
      this.tables = new TableDirectory(this.db);
      this.pager = new RowPager(this.db, this.tables);
      this.s = {
        hasCells: this.db.prepare<[number], number>('SELECT EXISTS (SELECT 1 FROM cells WHERE tbl = ?)').pluck(),
        // `meta` holds [column, opSeq, …] per fragment: two array items per live cell; a row's
        // fragments share its pk. One pass in SQLite over the table's fragments in (tbl, pk)
        // order counts both; the values are not decoded.
        counts: this.db
          .prepare<[number], [number, number]>(
            'SELECT coalesce(sum(json_array_length(meta)), 0) / 2, count(DISTINCT pk) FROM cells WHERE tbl = ?',
          )
          .raw(),
        tombstones: this.db
          .prepare<[number, string, number], TombstoneRow>(
            `SELECT ${TOMBSTONE_COLUMNS} FROM tombstones WHERE (tbl, pk) > (?, ?) ORDER BY tbl, pk LIMIT ?`,
          )
          .raw(),
        migrations: this.db.prepare<[], MigrationRow>(`SELECT ${MIGRATION_COLUMNS} FROM migrations ORDER BY hlc`).raw(),
      };
    } catch (err) {
      this.db.close();
      throw err;
    }
  }

  tablesWithCells(): TableRef[] {
    return this.tables
      .refs()
      .filter((t) => this.s.hasCells.get(this.tables.idOf(t)!) === 1)
      .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  cellCount(table: TableRef): number {
    return this.countsOf(table)[0];
  }

  rowCount(table: TableRef): number {
    return this.countsOf(table)[1];
  }

  /** [cells, rows] of a table, counted once per read (the header asks for rows, table-start for cells). */
  private countsOf(table: TableRef): [number, number] {
    const id = this.tables.idOf(table);
    if (id === undefined) return [0, 0];
    let counts = this.counted.get(id);
    if (!counts) {
      counts = this.s.counts.get(id)!;
      this.counted.set(id, counts);
    }
    return counts;
  }

  rowPage(table: TableRef, afterPkKey: string | undefined, maxRows: number): StoredCell[][] {
    return this.pager.page(table, afterPkKey, maxRows);
  }

  tombstonePage(after: TombstoneCursor | undefined, limit: number): StoredTombstone[] {
    const id = after ? (this.tables.idOf(after.table) ?? 0) : 0;
    return this.s.tombstones.all(id, after?.pkKey ?? '', limit).map((r) => toTombstone(r, this.tables, this.pks));
  }

  migrations(): StoredMigration[] {
    return this.s.migrations.all().map(toMigration);
  }

  close(): void {
    if (!this.db.open) return;
    this.db.close(); // ends the read transaction
    this.onClose();
  }
}
