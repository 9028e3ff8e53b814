// snapshot: a new site streams the full snapshot of a preloaded database, once over WebSocket
// (get_snapshot … snapshot_complete) and once over HTTP NDJSON, each against its own fresh server
// process (harness variants); figures are entries per second and
// how far the server's RSS rose above where it stood before each stream (SQLite's page cache
// filling up counts: it is memory the server holds because of the snapshot), on a server that has
// streamed one snapshot before (the first one's rise is reported too). Entries are counted
// in the text (lib/streamed-reads.mjs), checked against the footer's total.
import { performance } from 'node:perf_hooks';
import { Writer } from '../lib/change-sets.mjs';
import { preloaded, preloadedDatabase } from '../lib/preload.mjs';
import { RssSampler, rssKb } from '../lib/proc-stats.mjs';
import { perSecond } from '../lib/stats.mjs';
import { ndjsonSnapshot, streamedSnapshot } from '../lib/streamed-reads.mjs';

async function overWebSocket(ctx, databaseId, timeoutMs) {
  const client = await ctx.open();
  await client.handshake(databaseId, new Writer().siteIdText);
  const start = performance.now();
  const { entries } = await streamedSnapshot(client, timeoutMs);
  const elapsedMs = performance.now() - start;
  await client.close();
  return { entries, elapsedMs };
}

async function overHttp(ctx, databaseId, timeoutMs) {
  const url = `${ctx.server.httpBase}/${encodeURIComponent(databaseId)}/snapshot`;
  const start = performance.now();
  const { entries } = await ndjsonSnapshot(url, new Writer().siteIdText, timeoutMs);
  return { entries, elapsedMs: performance.now() - start };
}

/** Runs `stream` and returns its result plus the RSS rise above the level just before, MB. */
async function withRssGrowth(pid, stream) {
  const before = rssKb(pid);
  const sampler = new RssSampler(pid, 10);
  try {
    const result = await stream();
    return { ...result, growthMb: (sampler.stop() - before) / 1024 };
  } finally {
    sampler.stop();
  }
}

export default {
  name: 'snapshot',
  describe: (s) => `${s.snapshotCells.toLocaleString('en-US')} cells, WS and HTTP NDJSON`,
  rows: [
    {
      key: 'wsEntriesPerSec',
      label: 'snapshot WS',
      unit: 'entries/s',
      target: { op: '>=', value: 500_000 },
      reference: 80_000,
      limits: ['sqliteScanPerSec', 'jsonStringifyCellsPerSec'],
    },
    {
      key: 'httpEntriesPerSec',
      label: 'snapshot HTTP NDJSON',
      unit: 'entries/s',
      target: { op: '>=', value: 500_000 },
      reference: 80_000,
      limits: ['sqliteScanPerSec', 'jsonStringifyCellsPerSec'],
    },
    { key: 'wsRssGrowthMb', label: 'snapshot WS RSS growth', unit: 'MB', target: { op: '<=', value: 20 } },
    { key: 'httpRssGrowthMb', label: 'snapshot HTTP RSS growth', unit: 'MB', target: { op: '<=', value: 20 } },
    { key: 'wsColdRssGrowthMb', label: 'snapshot WS RSS growth, first stream of the process', unit: 'MB' },
    { key: 'httpColdRssGrowthMb', label: 'snapshot HTTP RSS growth, first stream of the process', unit: 'MB' },
  ],

  async setup(options, shared) {
    await preloadedDatabase(shared, options.sizes.snapshotCells, options);
  },
  serverOptions(options, shared) {
    return { dataDir: preloaded(shared, options.sizes.snapshotCells, options.sizes).dataDir };
  },
  // The store is opened (and held) before measuring: opening a database is not snapshot cost.
  // A first stream, unmeasured but for its RSS, warms the process: V8 sizes its young generation
  // up to its 32 MB maximum on the first long burst of allocation and keeps it, and compiles the
  // hot code (BENCHMARKS.md "Speed round 2: snapshots"). The measured stream is the next one.
  async prepare(ctx) {
    const { databaseId } = preloaded(ctx.shared, ctx.sizes.snapshotCells, ctx.sizes);
    const holder = await ctx.open();
    await holder.handshake(databaseId, new Writer().siteIdText);
    const stream = ctx.variant === 'ws' ? overWebSocket : overHttp;
    const cold = await withRssGrowth(ctx.server.pid, () => stream(ctx, databaseId, ctx.sizes.timeoutS * 1000));
    ctx.state.coldGrowthMb = cold.growthMb;
  },

  variants: ['ws', 'http'],
  async run(ctx) {
    const { databaseId, cells } = preloaded(ctx.shared, ctx.sizes.snapshotCells, ctx.sizes);
    const timeoutMs = ctx.sizes.timeoutS * 1000;
    const stream = ctx.variant === 'ws' ? overWebSocket : overHttp;
    const r = await withRssGrowth(ctx.server.pid, () => stream(ctx, databaseId, timeoutMs));
    if (r.entries !== cells) ctx.note(`snapshot ${ctx.variant}: ${r.entries} entries streamed, ${cells} stored`);
    return {
      metrics: {
        [`${ctx.variant}EntriesPerSec`]: perSecond(r.entries, r.elapsedMs),
        [`${ctx.variant}RssGrowthMb`]: r.growthMb,
        [`${ctx.variant}ColdRssGrowthMb`]: ctx.state.coldGrowthMb,
      },
    };
  },
};
