#!/usr/bin/env node
// `npm run bench:cluster [-- --rows N]`: what clustering costs, measured in one run on this machine.
// Three set-ups, each from the real CLI as child processes: one node without NATS, one node with
// NATS (a nats-server of our own: JetStream, file storage, temp dir, loopback, replicas 1), and
// three nodes on that NATS serving one database. For each: apply throughput (cells acknowledged
// per second, one writer per node, 4 pushes in flight) and p50/p99 ack latency, plus the CPU
// seconds of every process (the per-node split). With three nodes also: send→push latency to a
// subscriber on another node, and a catch-up from zero on a node that had not opened the database
// (it first merges the database's whole log). A fourth set-up repeats the three nodes with S3 on (a
// local s3rver, default schedule): every node records each batch, the holder of the database's
// archiving turn uploads them and snapshots it as images. Markdown goes to stdout and
// bench/.out/cluster-latest.md.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { insertMessages, Writer } from './lib/change-sets.mjs';
import { OUT_DIR, removeTempDir, tempDir } from './lib/harness.mjs';
import { cpuSeconds } from './lib/proc-stats.mjs';
import { pushMessages } from './lib/push.mjs';
import { startS3rver } from './lib/s3rver.mjs';
import { freePort, startCoordinator } from './lib/server.mjs';
import { formatNumber, percentile, perSecond } from './lib/stats.mjs';
import { WireClient } from './lib/wire-client.mjs';

const args = process.argv.slice(2);
const flag = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
if (args.includes('--help')) {
  console.log('npm run bench:cluster [-- --rows 20000 --columns 5 --rows-per-txn 10 --fanout-txns 1000]');
  process.exit(0);
}
const ROWS = flag('rows', 20_000);
const COLUMNS = flag('columns', 5);
const ROWS_PER_TXN = flag('rows-per-txn', 10);
const FANOUT_TXNS = flag('fanout-txns', 1000);
const IN_FLIGHT = 4;
const ACK_TIMEOUT_MS = 30_000;
const log = (text) => process.stderr.write(`[bench:cluster ${new Date().toISOString().slice(11, 19)}] ${text}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const NATS_BINARY = existsSync('/usr/sbin/nats-server') ? '/usr/sbin/nats-server' : 'nats-server';

/** Our own nats-server (never the machine's shared one), ready when it accepts TCP. */
async function startNats() {
  const port = await freePort();
  const dir = tempDir('syncord-bench-nats-');
  const child = spawn(NATS_BINARY, ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', dir], { stdio: 'ignore' });
  const url = `nats://127.0.0.1:${port}`;
  const deadline = Date.now() + 15_000;
  for (;;) {
    const up = await new Promise((resolve) => {
      const socket = connect(port, '127.0.0.1', () => (socket.destroy(), resolve(true)));
      socket.on('error', () => resolve(false));
    });
    if (up) break;
    if (Date.now() > deadline) throw new Error('nats-server did not start');
    await sleep(100);
  }
  return {
    url,
    pid: child.pid,
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      removeTempDir(dir);
    },
  };
}

async function startNodes(count, natsUrl, prefix, moreEnv = {}) {
  const nodes = [];
  for (let i = 1; i <= count; i++) {
    const dataDir = tempDir(`syncord-bench-node${i}-`);
    const env = natsUrl
      ? { SYNC_NATS_URL: natsUrl, SYNC_CLUSTER_SUBJECT_PREFIX: prefix, SYNC_NODE_NAME: `node${i}`, ...moreEnv }
      : {};
    const server = await startCoordinator({ dataDir, env: { ...env, SYNC_MESSAGE_RATE_PER_SECOND: '100000' } });
    nodes.push({ name: `node${i}`, server, dataDir });
  }
  return nodes;
}

async function stopAll(nodes) {
  for (const n of nodes) {
    await n.server.stop();
    removeTempDir(n.dataDir);
  }
}

/** CPU seconds of each process over `work`. */
async function cpuSplit(processes, work) {
  const before = processes.map((p) => cpuSeconds(p.pid));
  const result = await work();
  const cpu = processes.map((p, i) => ({ name: p.name, seconds: cpuSeconds(p.pid) - before[i] }));
  return { result, cpu };
}

/** One writer per node, all on `databaseId`; cells/s over all of them and every ack's latency. */
async function applyLoad(nodes, databaseId) {
  const writers = await Promise.all(
    nodes.map(async (n, i) => {
      const writer = new Writer();
      const client = await WireClient.open(n.server.wsUrl);
      await client.handshake(databaseId, writer.siteIdText);
      const rows = Math.floor(ROWS / nodes.length);
      const messages = insertMessages(writer, {
        rows,
        rowsPerTxn: ROWS_PER_TXN,
        columns: COLUMNS,
        firstId: 1 + i * rows,
      });
      return { client, messages };
    }),
  );
  const start = performance.now();
  const results = await Promise.all(
    writers.map((w) => pushMessages(w.client, w.messages, { inFlight: IN_FLIGHT, ackTimeoutMs: ACK_TIMEOUT_MS })),
  );
  const elapsedMs = performance.now() - start;
  for (const w of writers) await w.client.close();
  const applied = results.reduce((s, r) => s + r.applied, 0);
  const latencies = results.flatMap((r) => r.latencies);
  return {
    cellsPerSec: perSecond(applied, elapsedMs),
    cells: applied,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
  };
}

/** Writer on the first node at ~200 tx/s, subscriber on the last: send→push latency. */
async function crossNodeFanout(nodes, databaseId) {
  const sub = await WireClient.open(nodes[nodes.length - 1].server.wsUrl);
  await sub.handshake(databaseId, new Writer().siteIdText);
  const writer = new Writer();
  const sender = await WireClient.open(nodes[0].server.wsUrl);
  await sender.handshake(databaseId, writer.siteIdText);
  const messages = insertMessages(writer, { rows: FANOUT_TXNS, rowsPerTxn: 1, columns: COLUMNS, firstId: 10_000_000 });
  const sentAt = new Map();
  const latencies = [];
  sub.onRaw((raw) => {
    const at = performance.now();
    if (!raw.includes('"push_changes"')) return;
    for (const m of raw.matchAll(/"transactionId":"([^"]+)"/g)) {
      const t = sentAt.get(m[1]);
      if (t !== undefined) {
        latencies.push(at - t);
        sentAt.delete(m[1]);
      }
    }
  });
  const start = performance.now();
  for (let i = 0; i < messages.length; i++) {
    const due = start + i * 5; // 200 tx/s
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    sentAt.set(messages[i].transactionId, performance.now());
    sender.send(messages[i].text);
  }
  const deadline = performance.now() + 10_000;
  while (sentAt.size > 0 && performance.now() < deadline) await sleep(50);
  const missing = sentAt.size;
  await sender.close();
  await sub.close();
  return { p50: percentile(latencies, 50), p99: percentile(latencies, 99), received: latencies.length, missing };
}

/** A catch-up from zero on a node that has not opened the database: it merges the log first. */
async function coldCatchUp(node, databaseId) {
  const start = performance.now();
  const client = await WireClient.open(node.server.wsUrl);
  await client.handshake(databaseId, new Writer().siteIdText);
  const opened = performance.now();
  let cells = 0;
  client.send({ type: 'get_changes', requestId: 'cold' });
  for (;;) {
    const page = await client.waitFor((m) => m.type === 'changes', ACK_TIMEOUT_MS, 'changes');
    for (const cs of page.changeSets) cells += cs.changes.length;
    if (page.more !== true) break;
  }
  const end = performance.now();
  await client.close();
  return { cells, openMs: opened - start, cellsPerSec: perSecond(cells, end - start) };
}

function cpuText(cpu, cells) {
  return (
    cpu.map((c) => `${c.name} ${formatNumber(c.seconds)} s`).join(', ') +
    ` (total ${formatNumber((cpu.reduce((s, c) => s + c.seconds, 0) / cells) * 10_000, 3)} CPU-s per 10,000 cells)`
  );
}

async function main() {
  const rows = [];
  const nats = await startNats();
  const natsProc = { name: 'nats-server', pid: nats.pid };
  try {
    log(`one node, no NATS: ${ROWS} rows × ${COLUMNS} columns`);
    let nodes = await startNodes(1, undefined);
    let m = await cpuSplit(
      nodes.map((n) => ({ name: n.name, pid: n.server.pid })),
      () => applyLoad(nodes, 'bench-c1'),
    );
    rows.push({ setup: 'one node, no NATS', ...m.result, cpu: cpuText(m.cpu, m.result.cells) });
    await stopAll(nodes);

    log('one node with NATS');
    nodes = await startNodes(1, nats.url, 'bench1');
    m = await cpuSplit([...nodes.map((n) => ({ name: n.name, pid: n.server.pid })), natsProc], () =>
      applyLoad(nodes, 'bench-c2'),
    );
    rows.push({ setup: 'one node with NATS', ...m.result, cpu: cpuText(m.cpu, m.result.cells) });
    await stopAll(nodes);

    log('three nodes with NATS, one database, a writer on each');
    nodes = await startNodes(3, nats.url, 'bench3');
    // Every node opens the database first, so all three merge every entry (the worst case).
    for (const n of nodes) {
      const c = await WireClient.open(n.server.wsUrl);
      await c.handshake('bench-c3', new Writer().siteIdText);
      await c.close();
    }
    const holders = nodes.map(async (n) => {
      const c = await WireClient.open(n.server.wsUrl);
      await c.handshake('bench-c3', new Writer().siteIdText);
      return c;
    });
    const open = await Promise.all(holders);
    m = await cpuSplit([...nodes.map((n) => ({ name: n.name, pid: n.server.pid })), natsProc], () =>
      applyLoad(nodes, 'bench-c3'),
    );
    rows.push({ setup: 'three nodes with NATS', ...m.result, cpu: cpuText(m.cpu, m.result.cells) });
    for (const c of open) await c.close();

    log('three nodes with NATS and S3 (s3rver), one database');
    const s3Dir = tempDir('syncord-bench-s3-');
    const s3 = await startS3rver(s3Dir, 'bench');
    const s3Env = {
      S3_BUCKET: 'bench',
      S3_ENDPOINT: s3.endpoint,
      S3_ACCESS_KEY_ID: 'S3RVER',
      S3_SECRET_ACCESS_KEY: 'S3RVER',
      S3_FORCE_PATH_STYLE: 'true',
    };
    const s3Nodes = await startNodes(3, nats.url, 'bench3s3', s3Env);
    try {
      const s3Open = [];
      for (const n of s3Nodes) {
        const c = await WireClient.open(n.server.wsUrl);
        await c.handshake('bench-c4', new Writer().siteIdText);
        s3Open.push(c);
      }
      const procs = [...s3Nodes.map((n) => ({ name: n.name, pid: n.server.pid })), natsProc];
      m = await cpuSplit([...procs, { name: 's3rver', pid: s3.pid }], () => applyLoad(s3Nodes, 'bench-c4'));
      rows.push({ setup: 'three nodes with NATS and S3', ...m.result, cpu: cpuText(m.cpu, m.result.cells) });
      for (const c of s3Open) await c.close();
    } finally {
      await stopAll(s3Nodes);
      await s3.stop();
      removeTempDir(s3Dir);
    }

    log('cross-node fan-out');
    const fan = await crossNodeFanout(nodes, 'bench-fan');
    log('catch-up on a node that just opened the database');
    await applyLoad([nodes[0]], 'bench-cold');
    const cold = await coldCatchUp(nodes[2], 'bench-cold');
    await stopAll(nodes);

    const report = [
      `# Cluster benchmark (${new Date().toISOString().slice(0, 16)}Z)`,
      '',
      `Command: \`npm run bench:cluster${args.length ? ` -- ${args.join(' ')}` : ''}\`; ${ROWS.toLocaleString('en-US')} rows × ${COLUMNS} columns in ${ROWS_PER_TXN}-row transactions, ${IN_FLIGHT} pushes in flight per writer; NATS: one local nats-server, JetStream file storage, replicas 1.`,
      '',
      '| set-up | apply cells/s | ack p50 ms | ack p99 ms | CPU split |',
      '|---|---|---|---|---|',
      ...rows.map(
        (r) =>
          `| ${r.setup} | ${formatNumber(r.cellsPerSec, 0)} | ${formatNumber(r.p50, 1)} | ${formatNumber(r.p99, 1)} | ${r.cpu} |`,
      ),
      '',
      `Cross-node fan-out (writer on node1, subscriber on node3, ${FANOUT_TXNS} one-row transactions at 200 tx/s): p50 ${formatNumber(fan.p50, 1)} ms, p99 ${formatNumber(fan.p99, 1)} ms, ${fan.received} received, ${fan.missing} missing.`,
      '',
      `Catch-up from zero on a node that had not opened the database: ${formatNumber(cold.cells, 0)} cells in one get_changes at ${formatNumber(cold.cellsPerSec, 0)} cells/s including the open (${formatNumber(cold.openMs, 0)} ms to handshake_ack, which merges the database's log into a new local file).`,
    ].join('\n');
    console.log(report);
    mkdirSync(OUT_DIR, { recursive: true });
    writeFileSync(path.join(OUT_DIR, 'cluster-latest.md'), `${report}\n`);
  } finally {
    await nats.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
