// tenants: many databases, each one connection at a time, a few lanes at once. Two variants, each
// against its own fresh server on one data dir:
// - new: brand-new databases; connect, handshake, apply one row, close (the cost of creating one);
// - reopen: the same databases, closed and existing (the server was restarted on the data dir);
//   connect, handshake, get_changes (the row comes back), close (the cost of opening one).
// Per variant: databases per second, p50/p99 per database (connect to reply), server CPU ms per
// database (the figure that stays stable on a shared machine), the server's event-loop delay p99
// (prom-client's nodejs_eventloop_lag_p99_seconds, reset by the scrape before the load) and, for
// new, the RSS the server holds per database left open.
/* global fetch -- Node 20's built-in */
import { performance } from 'node:perf_hooks';
import { insertMessages, Writer } from '../lib/change-sets.mjs';
import { removeTempDir, tempDir } from '../lib/harness.mjs';
import { cpuSeconds, rssKb } from '../lib/proc-stats.mjs';
import { percentile, perSecond } from '../lib/stats.mjs';

const SETTLE_MS = 1_000;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const databaseId = (run, i) => `bench-tenant-${run}-${i}`;

/** The server's event-loop delay p99 since its previous scrape, ms; NaN where it has no such metric. */
async function loopDelayP99Ms(server) {
  try {
    const res = await fetch(`${server.httpBase}/metrics`);
    const text = await res.text();
    const match = /^nodejs_eventloop_lag_p99_seconds (\S+)$/m.exec(text);
    return match ? Number(match[1]) * 1000 : NaN;
  } catch {
    return NaN;
  }
}

/** Runs `perDatabase(i, client)` for every database over `concurrency` lanes; per-database ms. */
async function lanes(ctx, count, concurrency, perDatabase) {
  const latencies = [];
  let next = 0;
  const lane = async () => {
    while (next < count && !ctx.aborted) {
      const i = next++;
      const t0 = performance.now();
      const client = await ctx.open();
      await perDatabase(i, client);
      latencies.push(performance.now() - t0);
      await client.close();
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, lane));
  return latencies;
}

async function createDatabases(ctx) {
  const { tenants, columns, timeoutS } = ctx.sizes;
  // Encoded before the clock starts, like every other load.
  const jobs = Array.from({ length: tenants }, (_, i) => {
    const writer = new Writer();
    const [message] = insertMessages(writer, { rows: 1, rowsPerTxn: 1, columns });
    return { databaseId: databaseId(ctx.run, i), siteId: writer.siteIdText, message };
  });
  return lanes(ctx, tenants, ctx.sizes.tenantConcurrency, async (i, client) => {
    const job = jobs[i];
    await client.handshake(job.databaseId, job.siteId);
    const ack = await client.request(
      job.message.text,
      (m) => m.type === 'apply_result' && m.requestId === job.message.requestId,
      timeoutS * 1000,
      'apply_result',
    );
    if (ack.applied !== job.message.cells) throw new Error(`tenant ${job.databaseId}: applied ${ack.applied}`);
  });
}

async function reopenDatabases(ctx) {
  const { tenants, columns, timeoutS } = ctx.sizes;
  const sites = Array.from({ length: tenants }, () => new Writer().siteIdText);
  return lanes(ctx, tenants, ctx.sizes.tenantConcurrency, async (i, client) => {
    await client.handshake(databaseId(ctx.run, i), sites[i]);
    const reply = await client.request(
      { type: 'get_changes' },
      (m) => m.type === 'changes',
      timeoutS * 1000,
      'changes',
    );
    const cells = reply.changeSets.reduce((n, cs) => n + cs.changes.length, 0);
    if (cells !== columns) throw new Error(`tenant ${databaseId(ctx.run, i)}: ${cells} cells came back`);
  });
}

/** Runs the tenants load against ctx.server (the coordinator or, new databases only, the bare relay). */
export async function runTenants(ctx) {
  const variant = ctx.variant ?? 'new';
  const pid = ctx.server.pid;
  await loopDelayP99Ms(ctx.server); // resets the server's histogram: the next scrape covers the load
  const rss0 = rssKb(pid);
  const cpu0 = cpuSeconds(pid);
  const start = performance.now();
  const latencies = variant === 'new' ? await createDatabases(ctx) : await reopenDatabases(ctx);
  const elapsedMs = performance.now() - start;
  const cpuMs = (cpuSeconds(pid) - cpu0) * 1000;
  const loopP99 = await loopDelayP99Ms(ctx.server);
  const n = latencies.length;
  const metrics = {
    [`${variant}DatabasesPerSec`]: perSecond(n, elapsedMs),
    [`${variant}P50Ms`]: percentile(latencies, 50),
    [`${variant}P99Ms`]: percentile(latencies, 99),
    [`${variant}CpuMsPerDb`]: n > 0 ? cpuMs / n : NaN,
    [`${variant}LoopDelayP99Ms`]: loopP99,
  };
  if (variant === 'new') {
    // Every database stays open (maxOpenStores is raised above the count): RSS growth per database.
    await sleep(SETTLE_MS);
    metrics.rssPerOpenDbKb = n > 0 ? (rssKb(pid) - rss0) / n : NaN;
  }
  return { metrics };
}

export default {
  name: 'tenants',
  describe: (s) =>
    `${s.tenants.toLocaleString('en-US')} databases, ${s.tenantConcurrency} at a time: new (handshake + 1 apply + close), then reopened after a restart (handshake + get_changes + close)`,
  rows: [
    {
      key: 'newDatabasesPerSec',
      label: 'tenants new',
      unit: 'databases/s',
      target: { op: '>=', value: 2_000 },
      reference: 235,
      limits: ['relayDatabasesPerSec', 'sqliteCommitsPerSec'],
    },
    { key: 'newP50Ms', label: 'tenants new p50', unit: 'ms', reference: 67 },
    { key: 'newP99Ms', label: 'tenants new p99', unit: 'ms', target: { op: '<=', value: 20 } },
    { key: 'newCpuMsPerDb', label: 'tenants new server CPU', unit: 'ms/database' },
    {
      key: 'newLoopDelayP99Ms',
      label: 'tenants new event-loop delay p99',
      unit: 'ms',
      target: { op: '<=', value: 10 },
    },
    {
      key: 'rssPerOpenDbKb',
      label: 'tenants RSS per open database',
      unit: 'KB',
      target: { op: '<=', value: 25 },
      reference: 28,
    },
    {
      key: 'reopenDatabasesPerSec',
      label: 'tenants reopened',
      unit: 'databases/s',
      target: { op: '>=', value: 5_000 },
    },
    { key: 'reopenP50Ms', label: 'tenants reopened p50', unit: 'ms' },
    { key: 'reopenP99Ms', label: 'tenants reopened p99', unit: 'ms', target: { op: '<=', value: 20 } },
    { key: 'reopenCpuMsPerDb', label: 'tenants reopened server CPU', unit: 'ms/database' },
    {
      key: 'reopenLoopDelayP99Ms',
      label: 'tenants reopened event-loop delay p99',
      unit: 'ms',
      target: { op: '<=', value: 10 },
    },
  ],
  // One data dir per run: the new variant fills it, the reopen variant restarts the server on it.
  // Every database stays open (this measures what one costs, not the LRU closing others), so the
  // store bound and the open-file limit are raised to fit.
  serverOptions(options, shared, variant) {
    const { tenants, tenantConcurrency } = options.sizes;
    if (variant === 'new' || !shared.tenantsDataDir) {
      if (shared.tenantsDataDir) removeTempDir(shared.tenantsDataDir);
      else shared.cleanups.push(() => shared.tenantsDataDir && removeTempDir(shared.tenantsDataDir));
      shared.tenantsDataDir = tempDir('tenants');
    }
    return {
      dataDir: shared.tenantsDataDir,
      fdLimit: tenants * 4 + tenantConcurrency * 4 + 1_000,
      env: { SYNC_MAX_OPEN_STORES: String(tenants + tenantConcurrency + 100) },
    };
  },
  variants: ['new', 'reopen'],
  run: runTenants,
};
