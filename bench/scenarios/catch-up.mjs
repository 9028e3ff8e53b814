// catch-up: a new site pulls a preloaded database from zero with get_changes until a reply is
// empty; the figure is cells received per second. v1 sends get_changes once per handshake and has
// no "more" flag, so the real client pages through fresh handshakes; if the server answers a second
// get_changes on one connection, the bench uses that instead (--catchup-mode picks explicitly).
import { compareHLC, decodeHLC } from '@syncord/core';
import { performance } from 'node:perf_hooks';
import { Writer } from '../lib/change-sets.mjs';
import { preloaded, preloadedDatabase } from '../lib/preload.mjs';
import { perSecond } from '../lib/stats.mjs';

const PROBE_TIMEOUT_MS = 5_000;

function getChanges(client, sinceHLC, timeoutMs) {
  return client.request(
    sinceHLC ? { type: 'get_changes', sinceHLC } : { type: 'get_changes' },
    (m) => m.type === 'changes',
    timeoutMs,
    'changes reply',
  );
}

/** Cells in a reply and the highest change-set HLC (the client's next watermark). */
function digest(reply, since) {
  let cells = 0;
  let max = since ? decodeHLC(since) : undefined;
  let maxText = since;
  for (const cs of reply.changeSets) {
    cells += cs.changes.length;
    const hlc = decodeHLC(cs.hlc);
    if (max === undefined || compareHLC(hlc, max) > 0) {
      max = hlc;
      maxText = cs.hlc;
    }
  }
  return { cells, sets: reply.changeSets.length, watermark: maxText };
}

/** Does the server answer a second get_changes on one connection? Asked with a throwaway site. */
async function answersTwice(ctx, databaseId) {
  const client = await ctx.open();
  try {
    await client.handshake(databaseId, new Writer().siteIdText);
    const first = digest(await getChanges(client, undefined, ctx.sizes.timeoutS * 1000));
    await getChanges(client, first.watermark, PROBE_TIMEOUT_MS);
    return true;
  } catch {
    return false;
  } finally {
    await client.close();
  }
}

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
    ctx.state.same = mode === 'same' || (mode === 'auto' && (await answersTwice(ctx, ctx.state.db.databaseId)));
    ctx.note(
      `catch-up paged ${ctx.state.same ? 'on one connection (the server answers repeated get_changes)' : 'with a fresh handshake per round trip'}`,
    );
  },

  async run(ctx) {
    const { databaseId, cells: stored } = ctx.state.db;
    const site = new Writer().siteIdText;
    const timeoutMs = ctx.sizes.timeoutS * 1000;
    const maxRounds = ctx.sizes.catchupCells + 2; // every non-empty round brings at least one cell
    let cells = 0;
    let rounds = 0;
    let watermark;
    let client;
    const start = performance.now();
    while (rounds < maxRounds && !ctx.aborted) {
      if (!client) {
        client = await ctx.open();
        await client.handshake(databaseId, site);
      }
      const reply = digest(await getChanges(client, watermark, timeoutMs), watermark);
      rounds++;
      if (!ctx.state.same) {
        await client.close();
        client = undefined;
      }
      if (reply.sets === 0) break;
      if (reply.watermark === watermark) {
        ctx.note('catch-up: a non-empty reply did not move the watermark; stopped');
        break;
      }
      cells += reply.cells;
      watermark = reply.watermark;
    }
    const elapsedMs = performance.now() - start;
    if (client) await client.close();
    if (cells < stored) ctx.note(`catch-up: received ${cells} of ${stored} cells`);
    return {
      metrics: { cellsPerSec: perSecond(cells, elapsedMs), cellsPerRound: cells / Math.max(1, rounds - 1) },
    };
  },
};
