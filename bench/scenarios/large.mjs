// large (opt-in: --only large): a database of --large-cells cells (10,000,000 by default), built
// once and cached (lib/cached-preload.mjs). One run against a fresh server on it: open it (the
// first handshake), catch up from the middle over WebSocket (one get_changes, every page; as the
// site that caught up to the middle while the database was built), take a full snapshot over
// WebSocket. Reports each phase's time and the server's peak RSS during it:
// issue 14 asks that none of them take the server past 250 MB.
import { performance } from 'node:perf_hooks';
import { cachedDatabase } from '../lib/cached-preload.mjs';
import { RssSampler } from '../lib/proc-stats.mjs';
import { perSecond } from '../lib/stats.mjs';
import { streamedCatchUp, streamedSnapshot } from '../lib/streamed-reads.mjs';

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

  async run(ctx) {
    const { databaseId, cells, readerSite, middleHlc, cellsAfterMiddle } = ctx.shared.large;
    const timeoutMs = ctx.sizes.timeoutS * 1000;
    const pid = ctx.server.pid;
    const client = await ctx.open();
    const open = await measured(pid, () => client.handshake(databaseId, readerSite, timeoutMs));
    const middle = await measured(pid, () => streamedCatchUp(client, middleHlc, timeoutMs));
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
