// connections: many idle, handshaked sockets spread over a few databases; figures are the server's
// RSS per connection and handshakes per second. The sockets come from child processes
// (connections-worker.mjs), as many as the open-file limit needs; the server's own limit is raised
// with `ulimit -n` up to the hard limit, and the count is scaled down (with a note) past that.
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { Writer } from '../lib/change-sets.mjs';
import { openFileLimit, rssKb } from '../lib/proc-stats.mjs';
import { perSecond } from '../lib/stats.mjs';

const WORKER = fileURLToPath(new URL('./connections-worker.mjs', import.meta.url));
const FD_MARGIN = 512;
const SETTLE_MS = 1_000;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** How many connections this machine allows, and the note to print when that is fewer than asked. */
export function connectionPlan(sizes) {
  const { soft, hard } = openFileLimit();
  const count = Math.min(sizes.connections, hard - FD_MARGIN - sizes.connectionDbs);
  const perWorker = Math.max(1, soft - FD_MARGIN);
  return {
    count,
    workers: Math.max(1, Math.ceil(count / perWorker)),
    fdLimit: count + sizes.connectionDbs + FD_MARGIN,
    note: count < sizes.connections ? `connections scaled down to ${count} (open-file hard limit ${hard})` : undefined,
  };
}

function ask(worker, message, type) {
  const reply = new Promise((resolve, reject) => {
    const onMessage = (msg) => {
      if (msg.type !== type) return;
      worker.off('message', onMessage);
      resolve(msg);
    };
    worker.on('message', onMessage);
    worker.once('exit', (code) => reject(new Error(`connection worker exited (${code}) before ${type}`)));
  });
  worker.send(message);
  return reply;
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
  await sleep(SETTLE_MS);
  const before = rssKb(ctx.server.pid);

  const workers = Array.from({ length: plan.workers }, () => fork(WORKER, [], { stdio: 'inherit' }));
  try {
    const share = Math.ceil(plan.count / plan.workers);
    const start = performance.now();
    const results = await Promise.all(
      workers.map((worker, i) =>
        ask(
          worker,
          {
            cmd: 'connect',
            url: ctx.server.wsUrl,
            databases,
            count: Math.max(0, Math.min(share, plan.count - i * share)),
            concurrency: ctx.sizes.connectConcurrency,
            timeoutMs: ctx.sizes.timeoutS * 1000,
          },
          'connected',
        ),
      ),
    );
    const elapsedMs = performance.now() - start;
    const ok = results.reduce((n, r) => n + r.ok, 0);
    const failed = results.reduce((n, r) => n + r.failed, 0);
    if (failed > 0) {
      const reasons = results.flatMap((r) => r.errors.map(([e, n]) => `${n}× ${e}`));
      ctx.note(`connections: ${failed} of ${plan.count} handshakes failed (${reasons.slice(0, 3).join('; ')})`);
    }
    await sleep(SETTLE_MS);
    const after = rssKb(ctx.server.pid);
    return {
      metrics: {
        kbPerConnection: ok > 0 ? (after - before) / ok : NaN,
        handshakesPerSec: perSecond(ok, elapsedMs),
        connected: ok,
      },
    };
  } finally {
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
}

export default {
  name: 'connections',
  describe: (s) => `${connectionPlan(s).count.toLocaleString('en-US')} idle sockets over ${s.connectionDbs} databases`,
  rows: [
    {
      key: 'kbPerConnection',
      label: 'connections RSS',
      unit: 'KB/conn',
      target: { op: '<=', value: 6 },
      limits: ['relayKbPerConnection'],
    },
    {
      key: 'handshakesPerSec',
      label: 'connections handshakes',
      unit: 'handshakes/s',
      target: { op: '>=', value: 10_000 },
      limits: ['relayHandshakesPerSec'],
    },
  ],
  // The server's connection limits (PROTOCOL.md §9 config, env form) are raised to fit the load:
  // this scenario measures what idle connections cost, not where the server turns them away.
  serverOptions(options) {
    const plan = connectionPlan(options.sizes);
    const perDatabase = Math.ceil(plan.count / options.sizes.connectionDbs) + 1;
    return {
      fdLimit: plan.fdLimit,
      env: {
        SYNC_MAX_CONNECTIONS: String(Math.max(10_000, plan.count + options.sizes.connectionDbs)),
        SYNC_MAX_CONNECTIONS_PER_DATABASE: String(Math.max(1_000, perDatabase)),
      },
    };
  },
  run: runConnections,
};
