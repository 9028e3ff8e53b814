// catch-up: a new site pulls a preloaded database from zero until it holds every cell; the figure
// is cells received per second. Our server answers one get_changes with every page (`more: true`
// on all but the last, docs/protocol.md §12), so one request is the whole catch-up. A server
// without that extension answers one page per get_changes: the bench then asks again from each
// reply's watermark, on one connection when the server answers a repeated get_changes, else with a
// fresh handshake per round trip, as v1's real client does (--catchup-mode picks explicitly).
// A streamed catch-up is counted in the frames' text (lib/streamed-reads.mjs); the paged modes
// parse every reply.
import { compareHLC, decodeHLC } from '@syncord/core';
import { performance } from 'node:perf_hooks';
import { Writer } from '../lib/change-sets.mjs';
import { preloaded, preloadedDatabase } from '../lib/preload.mjs';
import { streamedCatchUp } from '../lib/streamed-reads.mjs';
import { perSecond } from '../lib/stats.mjs';

const PROBE_TIMEOUT_MS = 5_000;

/**
 * Sends one get_changes and resolves once its last reply arrived: the first reply when it carries
 * no `more`, else the one with `more: false`. `onPage(reply)` sees every reply as it is parsed, so
 * nothing is kept but what it keeps.
 */
function getChanges(client, sinceHLC, timeoutMs, onPage) {
  return client.request(
    sinceHLC ? { type: 'get_changes', sinceHLC } : { type: 'get_changes' },
    (m) => {
      if (m.type !== 'changes') return false;
      onPage(m);
      return m.more !== true;
    },
    timeoutMs,
    'last changes reply',
  );
}

/** Counts cells and sets and keeps the highest change-set HLC (the client's next watermark). */
class Progress {
  cells = 0;
  sets = 0;
  pages = 0;
  #max;
  watermark;

  constructor(since) {
    this.watermark = since;
    this.#max = since ? decodeHLC(since) : undefined;
  }

  add(reply) {
    this.pages++;
    for (const cs of reply.changeSets) {
      this.cells += cs.changes.length;
      this.sets++;
      const hlc = decodeHLC(cs.hlc);
      if (this.#max === undefined || compareHLC(hlc, this.#max) > 0) {
        this.#max = hlc;
        this.watermark = cs.hlc;
      }
    }
  }
}

const isChanges = (raw) => raw.startsWith('{"type":"changes"');
const streams = (raw) => raw.endsWith('"more":true}') || raw.endsWith('"more":false}');

/** How the server pages: 'stream' (one get_changes answers all), 'same' or 'fresh'. Asked with a throwaway site. */
async function pagingOf(ctx, databaseId) {
  const client = await ctx.open();
  try {
    await client.handshake(databaseId, new Writer().siteIdText);
    // Only the first reply is needed; closing stops the rest of a streamed one.
    const raw = await client.requestRaw({ type: 'get_changes' }, isChanges, ctx.sizes.timeoutS * 1000, 'changes reply');
    if (streams(raw)) return 'stream';
    const first = new Progress();
    first.add(JSON.parse(raw));
    try {
      await getChanges(client, first.watermark, PROBE_TIMEOUT_MS, () => {});
      return 'same';
    } catch {
      return 'fresh';
    }
  } finally {
    await client.close();
  }
}

const MODE_NOTES = {
  stream: 'catch-up: one get_changes, the server streams every page (`more`)',
  same: 'catch-up paged on one connection (the server answers repeated get_changes)',
  fresh: 'catch-up paged with a fresh handshake per round trip',
};

export default {
  name: 'catch-up',
  describe: (s) => `${s.catchupCells.toLocaleString('en-US')} cells pulled from zero by a new site`,
  rows: [
    {
      key: 'cellsPerSec',
      label: 'catch-up',
      unit: 'cells/s',
      target: { op: '>=', value: 600_000 },
      reference: 12_000,
      limits: ['sqliteScanPerSec', 'jsonParseCellsPerSec'],
    },
    { key: 'cellsPerRound', label: 'catch-up cells per round trip', unit: 'cells', reference: 1_200 },
    { key: 'cellsPerPage', label: 'catch-up cells per message', unit: 'cells' },
  ],

  async setup(options, shared) {
    await preloadedDatabase(shared, options.sizes.catchupCells, options);
  },
  serverOptions(options, shared) {
    return { dataDir: preloaded(shared, options.sizes.catchupCells, options.sizes).dataDir };
  },
  async prepare(ctx) {
    ctx.state.db = preloaded(ctx.shared, ctx.sizes.catchupCells, ctx.sizes);
    const mode = ctx.options.catchupMode;
    ctx.state.mode = mode === 'auto' ? await pagingOf(ctx, ctx.state.db.databaseId) : mode;
    ctx.note(MODE_NOTES[ctx.state.mode]);
  },

  async run(ctx) {
    const { databaseId, cells: stored } = ctx.state.db;
    const { mode } = ctx.state;
    const site = new Writer().siteIdText;
    const timeoutMs = ctx.sizes.timeoutS * 1000;
    const maxRounds = ctx.sizes.catchupCells + 2; // every non-empty round brings at least one cell
    const total = new Progress();
    let rounds = 0;
    let client;
    const start = performance.now();
    if (mode === 'stream') {
      client = await ctx.open();
      await client.handshake(databaseId, site);
      const got = await streamedCatchUp(client, undefined, timeoutMs);
      Object.assign(total, { cells: got.cells, sets: got.sets, pages: got.pages });
      rounds = 1;
    }
    while (mode !== 'stream' && rounds < maxRounds && !ctx.aborted) {
      if (!client) {
        client = await ctx.open();
        await client.handshake(databaseId, site);
      }
      const before = total.watermark;
      const round = new Progress(before);
      await getChanges(client, before, timeoutMs, (m) => {
        round.add(m);
        total.add(m);
      });
      rounds++;
      if (mode === 'fresh') {
        await client.close();
        client = undefined;
      }
      if (round.sets === 0) break;
      if (total.watermark === before) {
        ctx.note('catch-up: a non-empty reply did not move the watermark; stopped');
        break;
      }
    }
    const elapsedMs = performance.now() - start;
    if (client) await client.close();
    if (total.cells < stored) ctx.note(`catch-up: received ${total.cells} of ${stored} cells`);
    return {
      metrics: {
        cellsPerSec: perSecond(total.cells, elapsedMs),
        cellsPerRound: total.cells / Math.max(1, mode === 'stream' ? rounds : rounds - 1),
        cellsPerPage: total.cells / Math.max(1, total.pages),
      },
    };
  },
};
