// Core engine benchmark: the SQLite replica alone, no network. Runs against the built package:
//   npx tsc -b packages/core && node bench/core-engine.mjs [--rows 100000] [--per-call 10]
// Prints, for the SQLite store, cells/s for applyChanges (100-row × 3-column transactions,
// `--per-call` transactions per call), cells/s for getChangesSince from zero (paged by the batch
// bound until done, and unbounded), snapshot entries/s out and in, and the peak RSS. Every rate is
// given per wall second and per CPU second of this process: on a shared machine the second one
// is the steadier figure. Change sets are built before each timed call, outside the timing.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { makeHLC, newSiteId, transactionIdOf } from '../packages/core/dist/index.js';
import { openSqliteReplica } from '../packages/core/dist/sqlite/index.js';

const { values: args } = parseArgs({
  options: {
    rows: { type: 'string', default: '100000' },
    'per-call': { type: 'string', default: '10' },
    'large-per-call': { type: 'string', default: '100' },
  },
});
const ROWS = Number(args.rows);
const PER_CALL = Number(args['per-call']);
const LARGE_PER_CALL = Number(args['large-per-call']);
const ROWS_PER_TX = 100;
const COLUMNS = ['id', 'title', 'body'];
const CELLS = ROWS * COLUMNS.length;
const WRITERS = Array.from({ length: 10 }, () => newSiteId());
const WALL_START = Date.now() - 3_600_000;

/** Transactions [first, first + count) of a pass: 100 rows × 3 columns each, from 10 writer sites. */
function transactions(first, count, pass) {
  const out = [];
  for (let tx = first; tx < first + count; tx++) {
    const site = WRITERS[tx % WRITERS.length];
    const wall = BigInt(WALL_START + pass * 1_000_000 + tx);
    const changes = [];
    let opSeq = 0;
    for (let r = 0; r < ROWS_PER_TX; r++) {
      const id = tx * ROWS_PER_TX + r;
      const values = [id, `title ${id} v${pass}`, `body of row ${id}, version ${pass}, with some text`];
      for (let c = 0; c < COLUMNS.length; c++) {
        const hlc = makeHLC(wall, 0, site, opSeq++);
        changes.push({
          type: 'column',
          schema: 'main',
          table: 'notes',
          pk: [id],
          column: COLUMNS[c],
          value: values[c],
          hlc,
        });
      }
    }
    const hlc = changes[changes.length - 1].hlc;
    out.push({ siteId: site, transactionId: transactionIdOf(hlc), hlc, changes, schemaMigrations: [] });
  }
  return out;
}

/** Runs `step` and adds its wall and CPU milliseconds to `acc`. */
async function measured(acc, step) {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const result = await step();
  const cpu = process.cpuUsage(cpu0);
  acc.wall += performance.now() - t0;
  acc.cpu += (cpu.user + cpu.system) / 1000;
  return result;
}

const perSecond = (n, ms) => Math.round((n * 1000) / ms).toLocaleString('en-US');
const rows = [];
function report(label, n, acc) {
  rows.push(`| ${label} | ${perSecond(n, acc.wall)} | ${perSecond(n, acc.cpu)} |`);
  console.log(`${label}: ${perSecond(n, acc.wall)} /s wall, ${perSecond(n, acc.cpu)} /s CPU`);
}

/** One pass of applyChanges over every row, `perCall` transactions per call. */
async function applyPass(replica, pass, perCall = PER_CALL) {
  const acc = { wall: 0, cpu: 0 };
  const total = ROWS / ROWS_PER_TX;
  for (let tx = 0; tx < total; tx += perCall) {
    const sets = transactions(tx, Math.min(perCall, total - tx), pass);
    await measured(acc, () => replica.applyChanges(sets));
  }
  return acc;
}

const dir = mkdtempSync(join(tmpdir(), 'syncord-core-bench-'));
console.log(
  `node ${process.version}, ${cpus().length} CPUs, load average at start ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
try {
  const file = join(dir, 'bench.db');
  const replica = openSqliteReplica(file);
  const n = CELLS.toLocaleString('en-US');

  report(
    `applyChanges: ${n} new cells, ${PER_CALL} transactions per call (cells/s)`,
    CELLS,
    await applyPass(replica, 0),
  );
  report('applyChanges: the same change sets again, all conflicts (cells/s)', CELLS, await applyPass(replica, 0));
  report('applyChanges: a newer version of every cell, overwrites (cells/s)', CELLS, await applyPass(replica, 1));
  const large = openSqliteReplica(join(dir, 'large.db'));
  const largeRun = await applyPass(large, 0, LARGE_PER_CALL);
  report(`applyChanges: ${n} new cells, ${LARGE_PER_CALL} transactions per call (cells/s)`, CELLS, largeRun);
  large.close();

  const paged = { wall: 0, cpu: 0 };
  const served = await measured(paged, () => {
    const reader = newSiteId();
    let since;
    let count = 0;
    for (;;) {
      const page = replica.getChangesSince(reader, since, { batchSize: 1000 });
      if (page.length === 0) return count;
      for (const cs of page) count += cs.changes.length;
      since = page[page.length - 1].hlc;
    }
  });
  if (served !== CELLS) throw new Error(`paged serve returned ${served} cells, expected ${CELLS}`);
  report(`getChangesSince from zero over ${n} cells, paged by batchSize 1000 (cells/s)`, CELLS, paged);

  const unbounded = { wall: 0, cpu: 0 };
  const all = await measured(unbounded, () => replica.getChangesSince(newSiteId(), undefined, { batchSize: Infinity }));
  if (all.reduce((k, cs) => k + cs.changes.length, 0) !== CELLS) throw new Error('unbounded serve is short');
  report(`getChangesSince from zero over ${n} cells, unbounded (cells/s)`, CELLS, unbounded);

  const chunks = [];
  const out = { wall: 0, cpu: 0 };
  await measured(out, async () => {
    for await (const c of replica.snapshot()) chunks.push(c);
  });
  report(`snapshot out, ${n} entries (entries/s)`, CELLS, out);
  const copy = openSqliteReplica(join(dir, 'copy.db'));
  const into = { wall: 0, cpu: 0 };
  await measured(into, () => copy.applySnapshot(chunks));
  report('snapshot in, bootstrapping an empty replica (entries/s)', CELLS, into);
  copy.close();
  replica.close();
  const mb = (bytes) => (bytes / 1e6).toFixed(1);
  rows.push(`| database file after the run (MB) | ${mb(statSync(file).size)} | |`);
  rows.push(`| peak RSS of the whole process (MB) | ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} | |`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
console.log(
  `load average at end ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
console.log('\n| measure | per wall second | per CPU second |\n|---|---:|---:|');
console.log(rows.join('\n'));
