// fanout: many subscribers on one database, one writer sending one-row transactions at a fixed
// rate; the figure is the send→push latency (the writer's send to each subscriber's receipt, one
// process, one clock) and how many pushes never arrived. The subscribers live in worker threads
// (fanout-worker.mjs), so the load generator's receiving is spread over the cores rather than
// queued behind one event loop. Two loads: `fanout` (100 subscribers × 200 tx/s) and
// `fanout-wide` (1,000 subscribers × 50 tx/s).
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { insertMessages, Writer } from '../lib/change-sets.mjs';
import { cpuSeconds } from '../lib/proc-stats.mjs';
import { percentile } from '../lib/stats.mjs';

const DRAIN_MS = 3_000;
const WORKER = new URL('./fanout-worker.mjs', import.meta.url);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const now = () => performance.timeOrigin + performance.now();

/** The next message of `type` from the worker; rejects on its error or exit. */
function reply(worker, type) {
  return new Promise((resolve, reject) => {
    const onMessage = (message) => {
      if (message.type !== type && message.type !== 'failed') return;
      worker.off('message', onMessage);
      if (message.type === 'failed') reject(new Error(`fanout worker: ${message.error}`));
      else resolve(message);
    };
    worker.on('message', onMessage);
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`fanout worker exited (${code}) before ${type}`)));
  });
}

/** Starts the subscriber workers and the writer (unmeasured) against ctx.server (coordinator or bare relay). */
async function prepareFanout(ctx, load) {
  const { subscribers, txns, workers } = load;
  const databaseId = `bench-${ctx.run}-${Date.now()}`;
  const writer = new Writer();
  const messages = insertMessages(writer, { rows: txns, rowsPerTxn: 1, columns: ctx.sizes.columns });
  const state = { messages, sentAt: new Float64Array(messages.length).fill(NaN), acked: 0, workers: [] };
  ctx.state = state;
  state.counter = new SharedArrayBuffer(4);
  ctx.onEnd(() => Promise.all(state.workers.map((w) => w.terminate())));
  const count = Math.min(workers, subscribers);
  const started = [];
  for (let w = 0; w < count; w++) {
    const share = Math.floor(subscribers / count) + (w < subscribers % count ? 1 : 0);
    const worker = new Worker(WORKER, {
      workerData: {
        url: ctx.server.wsUrl,
        databaseId,
        count: share,
        transactionIds: messages.map((m) => m.transactionId),
        counter: state.counter,
      },
    });
    state.workers.push(worker);
    started.push(reply(worker, 'ready'));
  }
  await Promise.all(started);

  state.sender = await ctx.open();
  await state.sender.handshake(databaseId, writer.siteIdText);
  state.sender.onRaw((raw) => {
    if (raw.includes('"apply_result"')) state.acked++;
    else if (raw.includes('"error"')) state.error ??= raw;
  });
}

/** Sends at the configured rate, waits (bounded) for every push, then gathers the receipts. */
async function runFanout(ctx, load) {
  const { messages, sender, sentAt, workers } = ctx.state;
  const arrivals = new Int32Array(ctx.state.counter);
  const cpu0 = cpuSeconds(ctx.server.pid);
  // Paced by elapsed time, not by per-send sleeps, so timer jitter does not lower the mean rate.
  const start = performance.now();
  let sent = 0;
  while (sent < messages.length && !ctx.aborted) {
    const due = Math.min(messages.length, Math.floor(((performance.now() - start) * load.rate) / 1000) + 1);
    while (sent < due) {
      sentAt[sent] = now();
      sender.send(messages[sent++].text);
    }
    await sleep(1);
  }
  // Late is not missing: the drain lasts while pushes or acks keep arriving, and ends DRAIN_MS
  // after the last one (the run's own timeout bounds it).
  const expected = messages.length * load.subscribers;
  let progress = -1;
  let quietSince = performance.now();
  while (!ctx.aborted) {
    const seen = Atomics.load(arrivals, 0) + ctx.state.acked;
    if (seen === expected + messages.length) break;
    if (seen !== progress) [progress, quietSince] = [seen, performance.now()];
    else if (performance.now() - quietSince > DRAIN_MS) break;
    await sleep(5);
  }
  const cpuS = cpuSeconds(ctx.server.pid) - cpu0;
  const done = await Promise.all(
    workers.map((worker) => {
      const answer = reply(worker, 'done');
      worker.postMessage({ cmd: 'finish' });
      return answer;
    }),
  );
  if (ctx.state.error) throw new Error(`fanout writer got ${ctx.state.error.slice(0, 200)}`);
  const latencies = [];
  let duplicates = 0;
  for (const { received, duplicates: d } of done) {
    duplicates += d;
    for (let i = 0; i < received.length; i++) {
      if (!Number.isNaN(received[i])) latencies.push(received[i] - sentAt[i % messages.length]);
    }
  }
  if (duplicates > 0) ctx.note(`${load.name}: ${duplicates} duplicate pushes received`);
  if (ctx.state.acked < messages.length) {
    ctx.note(`${load.name}: only ${ctx.state.acked} of ${messages.length} applies acknowledged`);
  }
  return {
    metrics: {
      p50Ms: percentile(latencies, 50),
      p99Ms: percentile(latencies, 99),
      maxMs: percentile(latencies, 100),
      missing: expected - latencies.length,
      // Stable where wall-clock latency is not: on a busy machine a server short of CPU queues.
      cpuMsPerTxn: (cpuS * 1000) / messages.length,
    },
  };
}

/** One fanout load; `loadOf(sizes)` picks its subscribers, transactions, rate and worker count. */
function fanoutScenario({ name, loadOf, relayP50, relayP99, relayCpu, label }) {
  const load = (ctx) => ({ name, ...loadOf(ctx.sizes) });
  return {
    name,
    describe: (s) => {
      const l = loadOf(s);
      return `${l.subscribers} subscribers in ${Math.min(l.workers, l.subscribers)} worker threads, ${l.txns} one-row txns at ${l.rate}/s`;
    },
    rows: [
      {
        key: 'p99Ms',
        label: `${label} p99`,
        unit: 'ms',
        // Issue 14: within 10 % of the bare ws relay's p99 under the very same load.
        target: { op: '<=', limit: relayP99, factor: 1.1 },
        limits: [relayP99, 'sqliteCommitsPerSec'],
      },
      { key: 'p50Ms', label: `${label} p50`, unit: 'ms', limits: [relayP50] },
      { key: 'missing', label: `${label} missing`, unit: 'pushes', target: { op: '=', value: 0 } },
      { key: 'cpuMsPerTxn', label: `${label} server CPU`, unit: 'ms/txn', limits: [relayCpu] },
    ],
    // The connection limits are raised to fit the subscribers and the writer: this measures
    // delivery, not where the server turns sockets away.
    serverOptions(options) {
      const sockets = loadOf(options.sizes).subscribers + 1;
      return {
        env: {
          SYNC_MAX_CONNECTIONS_PER_DATABASE: String(Math.max(1_000, sockets)),
          SYNC_MAX_CONNECTIONS: String(Math.max(10_000, sockets)),
        },
      };
    },
    prepare: (ctx) => prepareFanout(ctx, load(ctx)),
    run: (ctx) => runFanout(ctx, load(ctx)),
  };
}

export default fanoutScenario({
  name: 'fanout',
  label: 'fanout',
  loadOf: (s) => ({
    subscribers: s.fanoutSubscribers,
    txns: s.fanoutTxns,
    rate: s.fanoutRate,
    workers: s.fanoutWorkers,
  }),
  relayP50: 'relayP50Ms',
  relayP99: 'relayP99Ms',
  relayCpu: 'relayCpuMsPerTxn',
});

export const fanoutWide = fanoutScenario({
  name: 'fanout-wide',
  label: 'fanout wide',
  loadOf: (s) => ({
    subscribers: s.wideSubscribers,
    txns: s.wideTxns,
    rate: s.wideRate,
    workers: s.fanoutWorkers,
  }),
  relayP50: 'relayWideP50Ms',
  relayP99: 'relayWideP99Ms',
  relayCpu: 'relayWideCpuMsPerTxn',
});
