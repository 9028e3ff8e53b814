// The SQLite layout of one replica (DESIGN.md "Storage sketch"): one file per database.
//
// Cells are stored as fragments: one record per (row, writing transaction) holding that
// transaction's live cells of the row. A 100-row × 3-column transaction is 100 records, not 300,
// which divides the b-tree work of a merge by the column count. A cell's HLC is the fragment's
// `base` (wallTime, counter, siteId: 26 bytes) plus its opSeq, so "changes since" is a range scan
// on the base index, already grouped by transaction (no separate change log to keep in step).
//
// `seq` (the arrival sequence) is each fact table's INTEGER PRIMARY KEY: appends land at the end
// of the b-tree and "arrived after c" is a rowid range. A fragment keeps its seq when a newer
// write takes one of its columns away, because its remaining facts arrived when it did.
import type Database from 'better-sqlite3';

export const SCHEMA_SQL = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS tables (
  id INTEGER PRIMARY KEY, schema TEXT NOT NULL, name TEXT NOT NULL, UNIQUE (schema, name));
CREATE TABLE IF NOT EXISTS cells (
  seq INTEGER PRIMARY KEY, tbl INTEGER NOT NULL, pk TEXT NOT NULL, base BLOB NOT NULL,
  meta TEXT NOT NULL, vals TEXT NOT NULL, pkx TEXT);
CREATE INDEX IF NOT EXISTS cells_row ON cells (tbl, pk);
CREATE INDEX IF NOT EXISTS cells_base ON cells (base);
CREATE TABLE IF NOT EXISTS tombstones (
  seq INTEGER PRIMARY KEY, tbl INTEGER NOT NULL, pk TEXT NOT NULL, hlc BLOB NOT NULL,
  created INTEGER NOT NULL, prior TEXT, pkx TEXT);
CREATE UNIQUE INDEX IF NOT EXISTS tombstones_key ON tombstones (tbl, pk);
CREATE INDEX IF NOT EXISTS tombstones_hlc ON tombstones (hlc);
CREATE TABLE IF NOT EXISTS migrations (
  seq INTEGER PRIMARY KEY, schema TEXT NOT NULL, kind TEXT NOT NULL, name TEXT NOT NULL,
  version INTEGER NOT NULL, type TEXT NOT NULL, ddl TEXT NOT NULL, hlc BLOB NOT NULL, from_table TEXT,
  UNIQUE (schema, kind, name, version));
CREATE TABLE IF NOT EXISTS watermarks (
  site BLOB NOT NULL, hlc BLOB NOT NULL, covered INTEGER NOT NULL, used_at INTEGER NOT NULL,
  use_seq INTEGER NOT NULL, PRIMARY KEY (site, hlc)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS watermark_sites (site BLOB PRIMARY KEY, use_seq INTEGER NOT NULL) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS watermark_sites_use ON watermark_sites (use_seq);
CREATE TABLE IF NOT EXISTS watermark_floors (site BLOB PRIMARY KEY, hlc BLOB NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS outbox (id INTEGER PRIMARY KEY AUTOINCREMENT, body TEXT NOT NULL, created INTEGER NOT NULL);
`;

/**
 * WAL lets snapshot readers keep a consistent view while merges commit. synchronous=FULL syncs
 * the WAL at every commit: an acknowledged apply survives power loss (NORMAL may lose the last
 * commits, which would break "acknowledged means durable"). One fsync per apply call, so callers
 * batch change sets into one call to amortise it.
 */
export function configureWriter(db: Database.Database): void {
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('temp_store = MEMORY');
  db.pragma('cache_size = -32768');
  db.pragma('busy_timeout = 5000');
  // One transaction: a dozen autocommits would each be a synced WAL commit (about 4x slower).
  db.exec(`BEGIN IMMEDIATE; ${SCHEMA_SQL} COMMIT;`);
}
