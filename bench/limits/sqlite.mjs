// SQLite limits with better-sqlite3 alone: cells written per second in one transaction through
// one prepared statement, cells read per second by the catch-up scan in base-HLC order, and
// durable commits per second (the fsync floor under every acknowledged apply). The schema and
// pragmas (WAL, synchronous=FULL) are the engine's own, from the built core's sqlite/schema.js;
// the raw statements follow its current layout (one `cells` record per row and transaction, a
// "fragment": 26-byte base HLC, JSON [column, opSeq, …] meta and JSON values) and refuse to run
// if the layout changes under them.
import { createRequire } from 'node:module';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { removeTempDir, tempDir } from '../lib/harness.mjs';
import { median, perSecond } from '../lib/stats.mjs';

// better-sqlite3 is a dependency of @syncord/core, so it resolves from there.
const require = createRequire(new URL('../../packages/core/package.json', import.meta.url));
const Database = require('better-sqlite3');
const SCHEMA_MODULE = new URL('../../packages/core/dist/sqlite/schema.js', import.meta.url);

const COLUMNS = ['id', 'title', 'score'];
const ROWS_PER_TXN = 100;
const COMMITS = 300;
const FRAGMENT_COLUMNS = ['seq', 'tbl', 'pk', 'base', 'meta', 'vals', 'pkx'];
const INSERT = `INSERT INTO cells (${FRAGMENT_COLUMNS.join(', ')}) VALUES (?, ?, ?, ?, ?, ?, ?)`;
const META = JSON.stringify(COLUMNS.flatMap((c, i) => [c, i]));

/** The 26-byte base (wall time, counter, site) of transaction `txn` of one writer. */
function baseBytes(wallTime, txn) {
  const out = Buffer.alloc(26);
  out.writeBigUInt64BE(BigInt(wallTime + txn), 0);
  out.fill(7, 10, 26);
  return out;
}

function checkLayout(db) {
  const columns = db
    .prepare('PRAGMA table_info(cells)')
    .all()
    .map((c) => c.name);
  if (columns.join() !== FRAGMENT_COLUMNS.join()) {
    throw new Error(`the engine's cells table is now (${columns.join(', ')}): update bench/limits/sqlite.mjs`);
  }
}

function oneRun(configureWriter, cells, dir, run) {
  const db = new Database(path.join(dir, `limit-${run}.sqlite`));
  try {
    configureWriter(db);
    checkLayout(db);
    const insert = db.prepare(INSERT);
    db.prepare('INSERT INTO tables (schema, name) VALUES (?, ?)').run('main', 'items');
    const table = db.prepare('SELECT id FROM tables WHERE schema = ? AND name = ?').pluck().get('main', 'items');
    const wallTime = Date.now();
    const rows = [];
    for (let r = 0; r < Math.ceil(cells / COLUMNS.length); r++) {
      const id = r + 1;
      const vals = JSON.stringify([id, `item ${id} title`, id * 0.5]);
      rows.push([r + 1, table, `[${id}]`, baseBytes(wallTime, Math.floor(r / ROWS_PER_TXN)), META, vals, null]);
    }
    const written = rows.length * COLUMNS.length;
    const start = performance.now();
    db.transaction(() => {
      for (const row of rows) insert.run(row);
    })();
    const upsertsPerSec = perSecond(written, performance.now() - start);

    const scan = db
      .prepare('SELECT seq, tbl, pk, base, meta, vals, pkx FROM cells WHERE base >= ? ORDER BY base')
      .raw();
    let read = 0;
    const scanStart = performance.now();
    for (const row of scan.iterate(Buffer.alloc(26))) read += row[4].length > 0 ? COLUMNS.length : 0;
    const scanPerSec = perSecond(read, performance.now() - scanStart);
    if (read !== written) throw new Error(`SQLite scan read ${read} of ${written} cells`);

    // Durable commits: one small record each, as an apply of one small change set costs at least;
    // with synchronous=FULL every commit syncs the WAL, so this is the disk's fsync rate.
    const commit = db.transaction((row) => insert.run(row));
    const commitStart = performance.now();
    for (let i = 0; i < COMMITS; i++) commit(rows[i % rows.length].with(0, rows.length + i + 1));
    const commitsPerSec = perSecond(COMMITS, performance.now() - commitStart);
    return { upsertsPerSec, scanPerSec, commitsPerSec };
  } finally {
    db.close();
  }
}

/** { sqliteUpsertsPerSec, sqliteScanPerSec, sqliteCommitsPerSec }: medians of sizes.runs runs of sizes.limitCells cells. */
export async function measureSqlite(sizes) {
  // Imported here, not statically: a core mid-rebuild then fails this limit, not the whole suite.
  const { configureWriter } = await import(SCHEMA_MODULE.href);
  const dir = tempDir('sqlite');
  try {
    const runs = Array.from({ length: Math.max(1, sizes.runs) }, (_, r) =>
      oneRun(configureWriter, sizes.limitCells, dir, r),
    );
    return {
      sqliteUpsertsPerSec: median(runs.map((r) => r.upsertsPerSec)),
      sqliteScanPerSec: median(runs.map((r) => r.scanPerSec)),
      sqliteCommitsPerSec: median(runs.map((r) => r.commitsPerSec)),
    };
  } finally {
    removeTempDir(dir);
  }
}
