// SQLite limits with better-sqlite3 alone: cells upserted per second in one transaction through
// one prepared statement, cells read per second by the catch-up scan in HLC order, and durable
// one-cell commits per second (the fsync floor under every acknowledged apply). Schema,
// pragmas (WAL, synchronous=FULL) and both statements are the engine's own, imported from the
// built core (packages/core/src/sqlite/), so the limit cannot drift from what the server runs.
import { createRequire } from 'node:module';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { configureWriter } from '../../packages/core/dist/sqlite/schema.js';
import { prepareStatements } from '../../packages/core/dist/sqlite/statements.js';
import { removeTempDir, tempDir } from '../lib/harness.mjs';
import { median, perSecond } from '../lib/stats.mjs';

// better-sqlite3 is a dependency of @syncord/core, so it resolves from there.
const require = createRequire(new URL('../../packages/core/package.json', import.meta.url));
const Database = require('better-sqlite3');

const COLUMNS = ['id', 'title', 'score'];
const TXN_FACTS = 300;
const COMMITS = 300;

/** The 30-byte HLC of fact `i` of one writer: big-endian wall time, counter, site, opSeq. */
function hlcBytes(wallTime, i) {
  const out = Buffer.alloc(30);
  out.writeBigUInt64BE(BigInt(wallTime + Math.floor(i / TXN_FACTS)), 0);
  out.writeUInt16BE(0, 8);
  out.fill(7, 10, 26);
  out.writeUInt32BE(i % TXN_FACTS, 26);
  return out;
}

function oneRun(cells, dir, run) {
  const db = new Database(path.join(dir, `limit-${run}.sqlite`));
  try {
    configureWriter(db);
    const s = prepareStatements(db);
    s.addTable.run('main', 'items');
    const table = s.findTable.get('main', 'items');
    const wallTime = Date.now();
    // Bound exactly as SqliteReplicaStore.putCell binds: seq, table id, pk key, column, hlc, v, vt, pkx.
    const rows = [];
    for (let i = 0; i < cells; i++) {
      const id = Math.floor(i / COLUMNS.length) + 1;
      const c = i % COLUMNS.length;
      const value = c === 0 ? id : c === 1 ? `item ${id} title` : id * 0.5;
      rows.push([i + 1, table, `[${id}]`, COLUMNS[c], hlcBytes(wallTime, i), value, null, null]);
    }
    const start = performance.now();
    db.transaction(() => {
      for (const row of rows) s.putCell.run(...row);
    })();
    const upsertsPerSec = perSecond(cells, performance.now() - start);

    let read = 0;
    const scanStart = performance.now();
    for (const row of s.scanAfter.iterate({ after: Buffer.alloc(30), site: Buffer.alloc(16, 0xff) })) {
      if (row.length > 0) read++;
    }
    const scanPerSec = perSecond(read, performance.now() - scanStart);
    if (read !== cells) throw new Error(`SQLite scan read ${read} of ${cells} cells`);

    // Durable commits: a one-cell transaction each, as an apply of one small change set costs at
    // least; with synchronous=FULL every commit syncs the WAL, so this is the disk's fsync rate.
    const commit = db.transaction((row) => s.putCell.run(...row));
    const commitStart = performance.now();
    for (let i = 0; i < COMMITS; i++) commit(rows[i % rows.length].with(0, cells + i + 1));
    const commitsPerSec = perSecond(COMMITS, performance.now() - commitStart);
    return { upsertsPerSec, scanPerSec, commitsPerSec };
  } finally {
    db.close();
  }
}

/** { sqliteUpsertsPerSec, sqliteScanPerSec, sqliteCommitsPerSec } as medians of sizes.runs runs of sizes.limitCells cells. */
export function measureSqlite(sizes) {
  const dir = tempDir('sqlite');
  try {
    const runs = Array.from({ length: Math.max(1, sizes.runs) }, (_, r) => oneRun(sizes.limitCells, dir, r));
    return {
      sqliteUpsertsPerSec: median(runs.map((r) => r.upsertsPerSec)),
      sqliteScanPerSec: median(runs.map((r) => r.scanPerSec)),
      sqliteCommitsPerSec: median(runs.map((r) => r.commitsPerSec)),
    };
  } finally {
    removeTempDir(dir);
  }
}
