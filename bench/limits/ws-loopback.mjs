// WebSocket loopback limit: one `ws` client streams small JSON text messages to the bare relay in
// another process, which parses and counts them; the figure is messages per second one way.
import { performance } from 'node:perf_hooks';
import { startBareRelay } from '../lib/server.mjs';
import { median, perSecond } from '../lib/stats.mjs';
import { WireClient } from '../lib/wire-client.mjs';

const MAX_BUFFERED = 4 * 1024 * 1024;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function oneRun(count, timeoutMs) {
  const server = await startBareRelay();
  const client = await WireClient.open(server.wsUrl);
  try {
    // About the size of a small control message (a one-cell push is ~400 bytes, a handshake ~120).
    const message = JSON.stringify({ type: 'count', requestId: 'apply-000000', pad: 'x'.repeat(64) });
    const start = performance.now();
    for (let i = 0; i < count; i++) {
      client.send(message);
      if (i % 1000 === 999) while (client.bufferedAmount > MAX_BUFFERED) await sleep(1);
    }
    const reply = await client.request({ type: 'count_done' }, (m) => m.type === 'counted', timeoutMs, 'counted');
    const elapsedMs = performance.now() - start;
    if (reply.n !== count) throw new Error(`ws loopback: relay counted ${reply.n} of ${count}`);
    return perSecond(count, elapsedMs);
  } finally {
    await client.close();
    await server.stop();
  }
}

/** { wsMessagesPerSec } as the median of sizes.runs runs. */
export async function measureWsLoopback(sizes) {
  const rates = [];
  for (let r = 0; r < Math.max(1, sizes.runs); r++) rates.push(await oneRun(sizes.wsMessages, sizes.timeoutS * 1000));
  return { wsMessagesPerSec: median(rates) };
}
