// large (opt-in: --only large): a database of --large-cells cells (10,000,000 by default), built
// once and cached (lib/cached-preload.mjs). One run against a fresh server on it: open it (the
// first handshake), catch up from the middle over WebSocket (one get_changes, every page), take a
// full snapshot over WebSocket. A watermark the server never served is gap-free only if everything
// below it is sent again (docs/protocol.md §7), so before measuring, a new site pages from zero
// up to the middle over HTTP (unmeasured) and the measured catch-up is that site's, from there. Reports each phase's time and the server's peak RSS during it:
// issue 14 asks that none of them take the server past 250 MB.
import { performance } from 'node:perf_hooks';
import { cachedDatabase } from '../lib/cached-preload.mjs';
import { RssSampler } from '../lib/proc-stats.mjs';
import { perSecond } from '../lib/stats.mjs';
import { Writer } from '../lib/change-sets.mjs';
import { pageUntil, streamedCatchUp, streamedSnapshot } from '../lib/streamed-reads.mjs';
import { decodeHLC } from '@syncord/core';

const RSS_TARGET = { op: '<=', value: 250 };

/** Runs `phase` while sampling the server's RSS; returns its result, seconds and peak RSS MB. */
async function measured(pid, phase) {
  const sampler = new RssSampler(pid, 10);
  const start = performance.now();
  try {
    const result = await phase();
    return { result, seconds: (performance.now() - start) / 1000, peakMb: sampler.stop() / 1024 };
  } finally {
    sampler.stop();
  }
}

const log = (text) => process.stderr.write(`[bench large] ${text}\n`);

export default {
  name: 'large',
  describe: (s) => `${s.largeCells.toLocaleString('en-US')} cells: open, catch-up from the middle, WS snapshot`,
  rows: [
    { key: 'openS', label: 'large: open (first handshake)', unit: 's' },
    { key: 'openRssMb', label: 'large: server peak RSS, open', unit: 'MB', target: RSS_TARGET },
    { key: 'middleS', label: 'large: catch-up from the middle', unit: 's' },
    { key: 'middleCellsPerSec', label: 'large: catch-up from the middle', unit: 'cells/s' },
    { key: 'middleRssMb', label: 'large: server peak RSS, catch-up', unit: 'MB', target: RSS_TARGET },
    { key: 'snapshotS', label: 'large: full WS snapshot', unit: 's' },
    { key: 'snapshotEntriesPerSec', label: 'large: full WS snapshot', unit: 'entries/s' },
    { key: 'snapshotRssMb', label: 'large: server peak RSS, snapshot', unit: 'MB', target: RSS_TARGET },
  ],

  async setup(options, shared) {
    shared.large = await cachedDatabase(options.sizes.largeCells, options, log);
  },
  serverOptions(options, shared) {
    return { dataDir: shared.large.dataDir };
  },
  // Opening is measured here, on the fresh server's first handshake; then the pull to the middle.
  async prepare(ctx) {
    const { databaseId, middleHlc } = ctx.shared.large;
    const timeoutMs = ctx.sizes.timeoutS * 1000;
    const reader = new Writer().siteIdText;
    const client = await ctx.open();
    ctx.state.open = await measured(ctx.server.pid, () => client.handshake(databaseId, reader, timeoutMs));
    const got = await pageUntil(ctx.server.httpBase, databaseId, reader, decodeHLC(middleHlc), timeoutMs);
    ctx.state.reader = { site: reader, watermark: got.watermark, cellsBefore: got.cells };
  },

  async run(ctx) {
    const { databaseId, cells } = ctx.shared.large;
    const { site, watermark, cellsBefore } = ctx.state.reader;
    const cellsAfterMiddle = cells - cellsBefore;
    const timeoutMs = ctx.sizes.timeoutS * 1000;
    const pid = ctx.server.pid;
    const client = await ctx.open();
    await client.handshake(databaseId, site, timeoutMs);
    const { open } = ctx.state;
    const middle = await measured(pid, () => streamedCatchUp(client, watermark, timeoutMs));
    if (middle.result.cells !== cellsAfterMiddle) {
      ctx.note(`large: catch-up from the middle brought ${middle.result.cells} cells, ${cellsAfterMiddle} expected`);
    }
    const snapshot = await measured(pid, () => streamedSnapshot(client, timeoutMs));
    if (snapshot.result.entries !== cells) {
      ctx.note(`large: the snapshot held ${snapshot.result.entries} entries, ${cells} stored`);
    }
    return {
      metrics: {
        openS: open.seconds,
        openRssMb: open.peakMb,
        middleS: middle.seconds,
        middleCellsPerSec: perSecond(middle.result.cells, middle.seconds * 1000),
        middleRssMb: middle.peakMb,
        snapshotS: snapshot.seconds,
        snapshotEntriesPerSec: perSecond(snapshot.result.entries, snapshot.seconds * 1000),
        snapshotRssMb: snapshot.peakMb,
      },
    };
  },
};
