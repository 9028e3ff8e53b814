// fanout: many subscribers on one database, one writer sending one-row transactions at a fixed
// rate; the figure is the send→push latency (writer's send to each subscriber's receipt, same
// process, same clock) and how many pushes never arrived.
import { performance } from 'node:perf_hooks';
import { insertMessages, Writer } from '../lib/change-sets.mjs';
import { percentile } from '../lib/stats.mjs';

const DRAIN_MS = 3_000;
const TXN_ID = /"transactionId":"([^"]+)"/g;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Connects the subscribers and the writer (unmeasured) against ctx.server (coordinator or bare relay). */
export async function prepareFanout(ctx) {
  const { fanoutSubscribers, fanoutTxns, columns } = ctx.sizes;
  const databaseId = `bench-fanout-${ctx.run}`;
  const state = { sentAt: new Map(), latencies: [], received: 0, duplicates: 0, acked: 0 };
  ctx.state = state;

  // Subscribers only scan the raw text for transaction ids: parsing 100 copies of every push in
  // one process would make the load generator, not the server, the latency under test.
  for (let i = 0; i < fanoutSubscribers; i++) {
    const client = await ctx.open();
    await client.handshake(databaseId, new Writer().siteIdText);
    const seen = new Set();
    client.onRaw((raw) => {
      const at = performance.now();
      if (!raw.includes('"push_changes"')) return;
      for (const match of raw.matchAll(TXN_ID)) {
        const id = match[1];
        const sent = state.sentAt.get(id);
        if (sent === undefined) continue;
        if (seen.has(id)) {
          state.duplicates++;
          continue;
        }
        seen.add(id);
        state.received++;
        state.latencies.push(at - sent);
      }
    });
  }

  const writer = new Writer();
  state.messages = insertMessages(writer, { rows: fanoutTxns, rowsPerTxn: 1, columns });
  state.sender = await ctx.open();
  await state.sender.handshake(databaseId, writer.siteIdText);
  state.sender.onRaw((raw) => {
    if (raw.includes('"apply_result"')) state.acked++;
    else if (raw.includes('"error"')) state.error ??= raw;
  });
}

/** Sends at the configured rate and waits (bounded) for every push. */
export async function runFanout(ctx) {
  const state = ctx.state;
  const { messages, sender, sentAt } = state;
  // Paced by elapsed time, not by per-send sleeps, so timer jitter does not lower the mean rate.
  const start = performance.now();
  let sent = 0;
  while (sent < messages.length && !ctx.aborted) {
    const due = Math.min(messages.length, Math.floor(((performance.now() - start) * ctx.sizes.fanoutRate) / 1000) + 1);
    while (sent < due) {
      const message = messages[sent++];
      sentAt.set(message.transactionId, performance.now());
      sender.send(message.text);
    }
    await sleep(1);
  }
  const expected = messages.length * ctx.sizes.fanoutSubscribers;
  const drainUntil = performance.now() + DRAIN_MS;
  while (
    (state.received < expected || state.acked < messages.length) &&
    performance.now() < drainUntil &&
    !ctx.aborted
  ) {
    await sleep(5);
  }
  if (state.error) throw new Error(`fanout writer got ${state.error.slice(0, 200)}`);
  if (state.duplicates > 0) ctx.note(`fanout: ${state.duplicates} duplicate pushes received`);
  if (state.acked < messages.length) ctx.note(`fanout: only ${state.acked} of ${messages.length} applies acknowledged`);
  return {
    metrics: {
      p50Ms: percentile(state.latencies, 50),
      p99Ms: percentile(state.latencies, 99),
      maxMs: percentile(state.latencies, 100),
      missing: expected - state.received,
    },
  };
}

export default {
  name: 'fanout',
  describe: (s) => `${s.fanoutSubscribers} subscribers, ${s.fanoutTxns} one-row txns at ${s.fanoutRate}/s`,
  rows: [
    {
      key: 'p99Ms',
      label: 'fanout p99',
      unit: 'ms',
      target: { op: '<=', value: 3 },
      reference: 30,
      limits: ['relayP99Ms', 'sqliteCommitsPerSec'],
    },
    { key: 'p50Ms', label: 'fanout p50', unit: 'ms', limits: ['relayP50Ms'] },
    { key: 'missing', label: 'fanout missing', unit: 'pushes', target: { op: '=', value: 0 } },
  ],
  prepare: prepareFanout,
  run: runFanout,
};
