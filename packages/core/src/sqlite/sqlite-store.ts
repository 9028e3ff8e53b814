// The SQLite ReplicaStore (better-sqlite3, synchronous): prepared statements only, one
// transaction per engine write, WAL with synchronous=FULL, cells stored as fragments (schema.ts).
import Database from 'better-sqlite3';
import type {
  MigrationKind,
  PruneResult,
  ReplicaStore,
  RowVersions,
  RowWrite,
  SnapshotReader,
  StoredCell,
  ScannedTx,
  StoredMigration,
  TableRef,
  TableStats,
  WatermarkRecord,
} from '../replica/store.js';
import { FactScanner } from './fact-scan.js';
import { FragmentRows } from './fragment-rows.js';
import { RowPager } from './row-page.js';
import {
  asBytes,
  FRAGMENT_COLUMNS,
  fragmentCells,
  MIGRATION_COLUMNS,
  PkDecoder,
  TableDirectory,
  toMigration,
  type FragmentRow,
  type MigrationRow,
} from './rows.js';
import { configureWriter } from './schema.js';
import { SqliteSnapshotReader } from './sqlite-snapshot.js';
import { WatermarkTable } from './watermark-table.js';
import { OutboxTable } from './outbox-table.js';
import type { OutboxEntry, OutboxStats } from '../replica/replica-api.js';

/** Every statement of the store, prepared once per connection. */
function prepareStatements(db: Database.Database) {
  return {
    getMeta: db.prepare<[string], string>('SELECT value FROM meta WHERE key = ?').pluck(),
    setMeta: db.prepare('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)'),
    deleteMeta: db.prepare('DELETE FROM meta WHERE key = ?'),
    findTable: db.prepare<[string, string], number>('SELECT id FROM tables WHERE schema = ? AND name = ?').pluck(),
    addTable: db.prepare('INSERT INTO tables (schema, name) VALUES (?, ?)'),
    getMigrationHlc: db
      .prepare<[string, string, string, number], Uint8Array>(
        'SELECT hlc FROM migrations WHERE schema = ? AND kind = ? AND name = ? AND version = ?',
      )
      .pluck(),
    getMigration: db
      .prepare<[string, string, string, number], MigrationRow>(
        `SELECT ${MIGRATION_COLUMNS} FROM migrations WHERE schema = ? AND kind = ? AND name = ? AND version = ?`,
      )
      .raw(),
    putMigration: db.prepare(
      'INSERT OR REPLACE INTO migrations (seq, schema, kind, name, version, type, ddl, hlc, from_table) ' +
        'VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
    ),
    listMigrations: db.prepare<[], MigrationRow>(`SELECT ${MIGRATION_COLUMNS} FROM migrations`).raw(),
    rowFragments: db
      .prepare<[number, string], FragmentRow>(`SELECT ${FRAGMENT_COLUMNS} FROM cells WHERE tbl = ? AND pk = ?`)
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
    // A fragment's meta holds [column, opSeq] pairs, so its live cells are half its array length.
    cellStats: db
      .prepare<[], [number, number, number]>(
        'SELECT tbl, count(DISTINCT pk), sum(json_array_length(meta)) / 2 FROM cells GROUP BY tbl',
      )
      .raw(),
    tombstoneStats: db.prepare<[], [number, number]>('SELECT tbl, count(*) FROM tombstones GROUP BY tbl').raw(),
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
  private readonly fragments: FragmentRows;
  private readonly pager: RowPager;
  private readonly scanner: FactScanner;
  private readonly watermarks: WatermarkTable;
  private readonly outbox: OutboxTable;
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
    this.s = prepareStatements(this.db);
    this.runTx = this.db.transaction((fn: () => unknown) => fn());
    this.tables = new TableDirectory(this.db);
    this.fragments = new FragmentRows(this.db);
    this.pager = new RowPager(this.db, this.tables);
    this.scanner = new FactScanner(this.db, this.tables);
    this.watermarks = new WatermarkTable(this.db);
    this.outbox = new OutboxTable(this.db);
  }

  transaction<T>(fn: () => T, options?: { durable?: boolean }): T {
    if (this.inTransaction) throw new Error('SqliteReplicaStore transactions do not nest');
    this.inTransaction = true;
    this.fragments.beginTransaction();
    // WAL keeps commit order, so a later synced commit makes an unsynced one durable too.
    const relaxed = options?.durable === false;
    if (relaxed) this.db.pragma('synchronous = NORMAL');
    try {
      return this.runTx.immediate(fn) as T;
    } catch (err) {
      this.tables.reload(); // ids handed out by the rolled-back transaction no longer exist
      throw err;
    } finally {
      if (relaxed) this.db.pragma('synchronous = FULL');
      this.fragments.endTransaction();
      this.inTransaction = false;
    }
  }

  savepoint<T>(fn: () => T): T {
    if (!this.inTransaction) throw new Error('SqliteReplicaStore savepoints need an open transaction');
    try {
      // better-sqlite3 runs a transaction function called inside a transaction as a SAVEPOINT.
      return this.runTx(fn) as T;
    } catch (err) {
      // Rows loaded or table ids handed out by the undone step may no longer be what is stored.
      this.tables.reload();
      this.fragments.endTransaction();
      this.fragments.beginTransaction();
      throw err;
    }
  }

  private idOf(table: TableRef): number {
    const known = this.tables.idOf(table);
    if (known !== undefined) return known;
    let id = this.s.findTable.get(table.schema, table.table);
    if (id === undefined) id = Number(this.s.addTable.run(table.schema, table.table).lastInsertRowid);
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

  loadRows(table: TableRef, pkKeys: readonly string[]): Map<string, RowVersions> {
    return this.fragments.load(this.tables.idOf(table), pkKeys);
  }

  writeRows(table: TableRef, rows: readonly RowWrite[]): void {
    this.fragments.write(this.idOf(table), rows);
  }

  getMigrationHlc(schema: string, kind: MigrationKind, name: string, schemaVersion: number): Uint8Array | undefined {
    const hlc = this.s.getMigrationHlc.get(schema, kind, name, schemaVersion);
    return hlc ? asBytes(hlc) : undefined;
  }
  getMigration(schema: string, kind: MigrationKind, name: string, schemaVersion: number): StoredMigration | undefined {
    const row = this.s.getMigration.get(schema, kind, name, schemaVersion);
    return row ? toMigration(row) : undefined;
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

  scanAfterHlc(
    after: Uint8Array | undefined,
    excludeSite: Uint8Array | undefined,
    expectedFacts = Infinity,
  ): Iterable<ScannedTx> {
    return this.scanner.afterHlc(after, excludeSite, expectedFacts);
  }

  scanLate(
    afterSeq: number,
    afterBase: Uint8Array | undefined,
    below: Uint8Array,
    excludeSite: Uint8Array | undefined,
    expectedFacts = Infinity,
  ): Iterable<ScannedTx> {
    return this.scanner.late(afterSeq, afterBase, below, excludeSite, expectedFacts);
  }

  rowCells(table: TableRef, pkKey: string): StoredCell[] {
    const id = this.tables.idOf(table);
    if (id === undefined) return [];
    const pks = new PkDecoder();
    return this.s.rowFragments.all(id, pkKey).flatMap((r) => fragmentCells(r, this.tables, pks));
  }

  rowPage(table: TableRef, afterPkKey: string | undefined, maxRows: number): StoredCell[][] {
    return this.pager.page(table, afterPkKey, maxRows);
  }

  hasTable(schema: string, table: string): boolean {
    const id = this.s.findTable.get(schema, table);
    if (id !== undefined && this.s.tableHasFacts.get(id, id) === 1) return true;
    return this.s.tableHasMigration.get(schema, table) === 1;
  }

  tableStats(): TableStats[] {
    const counts = new Map<number, { rows: number; cells: number; tombstones: number }>();
    for (const [tbl, rows, cells] of this.s.cellStats.all()) counts.set(tbl, { rows, cells, tombstones: 0 });
    for (const [tbl, tombstones] of this.s.tombstoneStats.all()) {
      const c = counts.get(tbl);
      if (c) c.tombstones = tombstones;
      else counts.set(tbl, { rows: 0, cells: 0, tombstones });
    }
    return [...counts]
      .map(([tbl, c]) => ({ table: this.tables.refOf(tbl), ...c }))
      .sort((a, b) => (a.table.key < b.table.key ? -1 : a.table.key > b.table.key ? 1 : 0));
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
  deleteWatermarksUsedBefore(usedBefore: number): Uint8Array | undefined {
    return this.watermarks.deleteUsedBefore(usedBefore);
  }
  getWatermarkFloor(site: Uint8Array): Uint8Array | undefined {
    return this.watermarks.floor(site);
  }
  setWatermarkFloor(site: Uint8Array, hlc: Uint8Array): void {
    this.watermarks.setFloor(site, hlc);
  }

  outboxAdd(body: string, createdAt: number): void {
    this.outbox.add(body, createdAt);
  }
  outboxPeek(limit: number): OutboxEntry[] {
    return this.outbox.peek(limit);
  }
  outboxDelete(id: number): void {
    this.outbox.delete(id);
  }
  outboxStats(): OutboxStats {
    return this.outbox.stats();
  }

  openSnapshotReader(): SnapshotReader {
    const reader = new SqliteSnapshotReader(this.path, () => this.readers.delete(reader));
    this.readers.add(reader);
    return reader;
  }

  /** SQLite's online backup: writes on this connection meanwhile are carried into the copy. */
  async backupTo(file: string): Promise<void> {
    await this.db.backup(file);
  }

  close(): void {
    for (const r of [...this.readers]) r.close();
    if (this.db.open) this.db.close();
  }
}
