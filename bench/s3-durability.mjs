// S3 durability figures against a local s3rver (loopback): snapshot upload of a large database
// (time and peak memory, at two sizes to show memory does not grow with the database), restore
// from that snapshot (time and cells/s), and the eviction image (upload and restore). Runs
// against the built packages:
//   npx tsc -b packages/core packages/coordinator && node bench/s3-durability.mjs [--cells 1000000]
// Each measured step runs in a fresh Node process, so its peak RSS is its own; "base RSS" is that
// process after loading the modules and opening the database, before the step.
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startS3rver } from './lib/s3rver.mjs';

const { values: args } = parseArgs({
  options: {
    cells: { type: 'string', default: '1000000' },
    phase: { type: 'string' },
    file: { type: 'string' },
    endpoint: { type: 'string' },
    key: { type: 'string' },
  },
});
const BUCKET = 'bench';
const COLUMNS = ['id', 'title', 'body', 'n'];
const ROWS_PER_TX = 250;

const core = () => import('../packages/core/dist/index.js');
const sqlite = () => import('../packages/core/dist/sqlite/index.js');
const coordinator = () => import('../packages/coordinator/dist/index.js');

function s3Config(endpoint) {
  return {
    bucket: BUCKET,
    region: 'us-east-1',
    endpoint,
    accessKeyId: 'S3RVER',
    secretAccessKey: 'S3RVER',
    forcePathStyle: true,
    keyPrefix: 'bench/',
    checksums: 'when-required',
  };
}

const rssMiB = (kib) => Math.round(kib / 1024);

/** A measured step, in this (child) process: prints one JSON line. */
async function runPhase() {
  const { ObjectStore, ArchiveLayout, uploadSnapshot, restoreDatabase, uploadImage } = await coordinator();
  const { openSqliteReplica } = await sqlite();
  const store = ObjectStore.fromConfig(s3Config(args.endpoint));
  const layout = new ArchiveLayout('bench', 'bench', 'bench/');
  const open = (file, siteId) => openSqliteReplica(file, siteId ? { siteId } : {});
  let replica;
  if (args.phase === 'snapshot' || args.phase === 'image') replica = open(args.file);
  const baseRss = process.memoryUsage().rss / 1024;
  const t0 = performance.now();
  let result = {};
  if (args.phase === 'snapshot') {
    const report = await uploadSnapshot(store, args.key, 'bench', Date.now(), replica.snapshot());
    result = { entries: report.entries };
  } else if (args.phase === 'image') {
    const siteId = replica.siteId;
    replica.close();
    await uploadImage(store, args.key, args.file, 'bench', siteId);
  } else if (args.phase === 'restore') {
    const report = await restoreDatabase({ store, layout, targetFile: args.file, openFile: open });
    result = { base: report.base.kind, baseEntries: report.baseEntries };
  }
  const seconds = (performance.now() - t0) / 1000;
  replica?.close?.();
  store.close();
  const peak = process.resourceUsage().maxRSS;
  console.log(JSON.stringify({ ...result, seconds, baseRssMiB: rssMiB(baseRss), peakRssMiB: rssMiB(peak) }));
}

function child(phase, extra) {
  return new Promise((resolve, reject) => {
    const proc = fork(fileURLToPath(import.meta.url), ['--phase', phase, ...extra], {
      stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
    });
    let out = '';
    proc.stdout.on('data', (d) => (out += d));
    proc.on('exit', (code) =>
      code === 0 ? resolve(JSON.parse(out.trim().split('\n').at(-1))) : reject(new Error(`${phase} exited ${code}`)),
    );
  });
}

/** A database of `cells` cells: rows of 4 columns, 250-row transactions from 10 writers. */
async function build(file, cells) {
  const { makeHLC, newSiteId, transactionIdOf } = await core();
  const { openSqliteReplica } = await sqlite();
  const replica = openSqliteReplica(file);
  const writers = Array.from({ length: 10 }, () => newSiteId());
  const rows = Math.ceil(cells / COLUMNS.length);
  const wall0 = Date.now() - 3_600_000;
  for (let first = 0, tx = 0; first < rows; first += ROWS_PER_TX, tx++) {
    const site = writers[tx % writers.length];
    const changes = [];
    let opSeq = 0;
    for (let id = first; id < Math.min(rows, first + ROWS_PER_TX); id++) {
      const values = [id, `title ${id}`, `body of row ${id}, with some text to make it realistic`, id * 7];
      for (let c = 0; c < COLUMNS.length; c++) {
        changes.push({
          type: 'column',
          schema: 'main',
          table: 'notes',
          pk: [id],
          column: COLUMNS[c],
          value: values[c],
          hlc: makeHLC(BigInt(wall0 + tx), 0, site, opSeq++),
        });
      }
    }
    const hlc = changes.at(-1).hlc;
    replica.applyChanges([{ siteId: site, transactionId: transactionIdOf(hlc), hlc, changes, schemaMigrations: [] }]);
  }
  replica.close();
}

async function main() {
  const cells = Number(args.cells);
  const dir = mkdtempSync(join(tmpdir(), 'syncord-s3-bench-'));
  console.log(
    `node ${process.version}, ${cpus().length} CPUs, load ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}, ${cells.toLocaleString('en-US')} cells`,
  );
  const s3 = await startS3rver(dir, BUCKET);
  const rows = [];
  const mib = (bytes) => (bytes / 1024 / 1024).toFixed(1);
  try {
    for (const size of [Math.round(cells / 4), cells]) {
      const file = join(dir, `db-${size}.sqlite`);
      await build(file, size);
      const label = size.toLocaleString('en-US');
      const snap = await child('snapshot', [
        '--file',
        file,
        '--endpoint',
        s3.endpoint,
        '--key',
        `bench/bench/snapshots/${new Date().toISOString().replace(/[:.]/g, '-')}_s${size}.json`,
      ]);
      rows.push(
        `| snapshot upload, ${label} cells (SQLite file ${mib(statSync(file).size)} MiB) | ${snap.seconds.toFixed(2)} s | ${Math.round(snap.entries / snap.seconds).toLocaleString('en-US')} cells/s | ${snap.baseRssMiB} → ${snap.peakRssMiB} MiB |`,
      );
      if (size !== cells) continue;
      const restored = await child('restore', ['--file', join(dir, 'restored.sqlite'), '--endpoint', s3.endpoint]);
      rows.push(
        `| restore from that snapshot, ${label} cells | ${restored.seconds.toFixed(2)} s | ${Math.round(restored.baseEntries / restored.seconds).toLocaleString('en-US')} cells/s | ${restored.baseRssMiB} → ${restored.peakRssMiB} MiB |`,
      );
      await new Promise((r) => setTimeout(r, 5));
      const image = await child('image', [
        '--file',
        file,
        '--endpoint',
        s3.endpoint,
        '--key',
        `bench/bench/images/${new Date().toISOString().replace(/[:.]/g, '-')}_i.sqlite.gz`,
      ]);
      rows.push(
        `| eviction image upload, ${label} cells | ${image.seconds.toFixed(2)} s | ${Math.round(size / image.seconds).toLocaleString('en-US')} cells/s | ${image.baseRssMiB} → ${image.peakRssMiB} MiB |`,
      );
      const fromImage = await child('restore', ['--file', join(dir, 'from-image.sqlite'), '--endpoint', s3.endpoint]);
      rows.push(
        `| restore from the image (${fromImage.base}), ${label} cells | ${fromImage.seconds.toFixed(2)} s | ${Math.round(size / fromImage.seconds).toLocaleString('en-US')} cells/s | ${fromImage.baseRssMiB} → ${fromImage.peakRssMiB} MiB |`,
      );
    }
  } finally {
    await s3.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  console.log('\n| step | time | throughput | RSS before → peak |\n|---|---|---|---|');
  for (const row of rows) console.log(row);
}

await (args.phase ? runPhase() : main());
