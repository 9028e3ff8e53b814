// connections: many idle, handshaked sockets spread over a few databases; figures are the server's
// RSS and heap per connection, handshakes per second and server CPU per 1,000 handshakes. The
// sockets come from several child processes (connections-worker.mjs, `--connect-workers`), so one
// generator process is not what bounds the handshake rate; more of them when the open-file limit
// asks for it. The server's own limit is raised with `ulimit -n` up to the hard limit, and the
// count is scaled down (with a note) past that.
//
// The load comes in two equal halves, with the server's RSS read after each: growth from the idle
// server to the full count (the figure earlier runs reported) includes one-off costs, above all
// V8's young generation growing from a few MB to its 32 MB working size under the handshake
// burst, which spread over 10,000 sockets reads as 3 KB each; the growth over the second half
// alone is what one more idle connection costs. Heap per connection is read after a full GC
// (heap-probe.cjs), before the first and after the last connection.
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { Writer } from '../lib/change-sets.mjs';
import { cpuSeconds, openFileLimit, rssKb } from '../lib/proc-stats.mjs';
import { perSecond } from '../lib/stats.mjs';

const WORKER = fileURLToPath(new URL('./connections-worker.mjs', import.meta.url));
const FD_MARGIN = 512;
const SETTLE_MS = 1_000;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** How many connections this machine allows, from how many processes, and the note to print when that is fewer than asked. */
export function connectionPlan(sizes) {
  const { soft, hard } = openFileLimit();
  const count = Math.min(sizes.connections, hard - FD_MARGIN - sizes.connectionDbs);
  const perWorker = Math.max(1, soft - FD_MARGIN);
  return {
    count,
    workers: Math.max(1, Math.min(count, Math.max(sizes.connectWorkers, Math.ceil(count / perWorker)))),
    fdLimit: count + sizes.connectionDbs + FD_MARGIN,
    note: count < sizes.connections ? `connections scaled down to ${count} (open-file hard limit ${hard})` : undefined,
  };
}

function ask(worker, message, type) {
  const reply = new Promise((resolve, reject) => {
    const onMessage = (msg) => {
      if (msg.type !== type) return;
      worker.off('message', onMessage);
      worker.off('exit', onExit);
      resolve(msg);
    };
    const onExit = (code) => reject(new Error(`connection worker exited (${code}) before ${type}`));
    worker.on('message', onMessage);
    worker.once('exit', onExit);
  });
  worker.send(message);
  return reply;
}

/** `count` handshakes spread over the workers; resolves to { ok, failed, errors, ms, generatorCpuS }. */
async function connectWave(ctx, workers, databases, count) {
  const share = Math.ceil(count / workers.length);
  const concurrency = Math.max(1, Math.ceil(ctx.sizes.connectConcurrency / workers.length));
  const start = performance.now();
  const results = await Promise.all(
    workers.map((worker, i) =>
      ask(
        worker,
        {
          cmd: 'connect',
          url: ctx.server.wsUrl,
          databases,
          count: Math.max(0, Math.min(share, count - i * share)),
          concurrency,
          timeoutMs: ctx.sizes.timeoutS * 1000,
        },
        'connected',
      ),
    ),
  );
  return {
    ms: performance.now() - start,
    ok: results.reduce((n, r) => n + r.ok, 0),
    failed: results.reduce((n, r) => n + r.failed, 0),
    errors: results.flatMap((r) => r.errors.map(([e, n]) => `${n}× ${e}`)),
    generatorCpuS: results.reduce((n, r) => n + r.cpuS, 0),
  };
}

async function stopWorkers(workers) {
  await Promise.all(
    workers.map(async (worker) => {
      if (worker.exitCode !== null) return;
      const exited = once(worker, 'exit');
      const timer = setTimeout(() => worker.kill('SIGKILL'), 15_000);
      await ask(worker, { cmd: 'close' }, 'closed').catch(() => worker.kill('SIGKILL'));
      await exited;
      clearTimeout(timer);
    }),
  );
}

/** Runs the connections load against ctx.server (the coordinator or the bare relay). */
export async function runConnections(ctx) {
  const plan = connectionPlan(ctx.sizes);
  if (plan.note) ctx.note(plan.note);
  const databases = Array.from({ length: ctx.sizes.connectionDbs }, (_, i) => `bench-conn-${ctx.run}-${i}`);
  // One warm connection per database first: opening a store is per-database cost, not per-connection.
  for (const databaseId of databases) {
    const client = await ctx.open();
    await client.handshake(databaseId, new Writer().siteIdText);
  }
  const { pid } = ctx.server;
  const heapBefore = await ctx.server.heap();
  await sleep(SETTLE_MS);
  const rssBefore = rssKb(pid);

  const workers = Array.from({ length: plan.workers }, () => fork(WORKER, [], { stdio: 'inherit' }));
  try {
    const halves = [Math.ceil(plan.count / 2), Math.floor(plan.count / 2)];
    const waves = [];
    const rssAfter = [];
    let serverCpuS = 0;
    for (const count of halves) {
      const cpu0 = cpuSeconds(pid);
      waves.push(await connectWave(ctx, workers, databases, count));
      serverCpuS += cpuSeconds(pid) - cpu0;
      await sleep(SETTLE_MS);
      rssAfter.push(rssKb(pid));
    }
    const heapAfter = await ctx.server.heap();
    const ok = waves[0].ok + waves[1].ok;
    const failed = waves[0].failed + waves[1].failed;
    if (failed > 0) {
      const reasons = waves.flatMap((w) => w.errors);
      ctx.note(`connections: ${failed} of ${plan.count} handshakes failed (${reasons.slice(0, 3).join('; ')})`);
    }
    const connectMs = waves[0].ms + waves[1].ms;
    const generatorCpuS = waves[1].generatorCpuS; // cumulative per worker: the last wave's is the total
    ctx.note(
      `connections (${ctx.server.name}): ${plan.workers} load-generator processes used ${generatorCpuS.toFixed(2)} CPU-s ` +
        `for ${ok} handshakes in ${(connectMs / 1000).toFixed(2)} s; server ${serverCpuS.toFixed(2)} CPU-s`,
    );
    return {
      metrics: {
        kbPerConnection: ok > 0 ? (rssAfter[1] - rssBefore) / ok : NaN,
        marginalKbPerConnection: waves[1].ok > 0 ? (rssAfter[1] - rssAfter[0]) / waves[1].ok : NaN,
        heapKbPerConnection: ok > 0 ? (heapAfter.heapUsed - heapBefore.heapUsed) / 1024 / ok : NaN,
        handshakesPerSec: perSecond(ok, connectMs),
        cpuSPer1000Handshakes: ok > 0 ? (serverCpuS * 1000) / ok : NaN,
        connected: ok,
      },
    };
  } finally {
    await stopWorkers(workers);
  }
}

export default {
  name: 'connections',
  describe: (s) => {
    const plan = connectionPlan(s);
    return `${plan.count.toLocaleString('en-US')} idle sockets over ${s.connectionDbs} databases from ${plan.workers} processes`;
  },
  rows: [
    {
      key: 'kbPerConnection',
      label: 'connections RSS',
      unit: 'KB/conn',
      target: { op: '<=', value: 6 },
      limits: ['relayKbPerConnection'],
    },
    {
      key: 'marginalKbPerConnection',
      label: 'connections RSS, second half',
      unit: 'KB/conn',
      target: { op: '<=', value: 6 },
      limits: ['relayMarginalKbPerConnection'],
    },
    {
      key: 'heapKbPerConnection',
      label: 'connections heap after GC',
      unit: 'KB/conn',
      limits: ['relayHeapKbPerConnection'],
    },
    {
      key: 'handshakesPerSec',
      label: 'connections handshakes',
      unit: 'handshakes/s',
      target: { op: '>=', value: 10_000 },
      limits: ['relayHandshakesPerSec'],
    },
    {
      key: 'cpuSPer1000Handshakes',
      label: 'connections server CPU',
      unit: 'CPU-s/1,000 handshakes',
      limits: ['relayCpuSPer1000Handshakes'],
    },
  ],
  // The server's connection limits (PROTOCOL.md §9 config, env form) are raised to fit the load:
  // this scenario measures what idle connections cost, not where the server turns them away.
  serverOptions(options) {
    const plan = connectionPlan(options.sizes);
    const perDatabase = Math.ceil(plan.count / options.sizes.connectionDbs) + 1;
    return {
      fdLimit: plan.fdLimit,
      heapProbe: true,
      env: {
        SYNC_MAX_CONNECTIONS: String(Math.max(10_000, plan.count + options.sizes.connectionDbs)),
        SYNC_MAX_CONNECTIONS_PER_DATABASE: String(Math.max(1_000, perDatabase)),
      },
    };
  },
  run: runConnections,
};
