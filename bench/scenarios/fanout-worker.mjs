// Worker thread of the fanout scenarios: holds a share of the subscribers, so receiving thousands
// of pushes a second is spread over the machine's cores instead of bounding the figure from one
// event loop. It records when each subscriber first saw each transaction (performance.timeOrigin
// + performance.now(): one clock for every thread of the process) and counts arrivals in a shared
// counter the main thread polls. Protocol: workerData {url, databaseId, count, transactionIds,
// counter}; worker → {type:'ready'} once every subscriber is handshaked (or {type:'failed',
// error}); main → {cmd:'finish'} → worker {type:'done', received: Float64Array, duplicates}.
import { performance } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';
import { encodeSiteId, newSiteId } from '@syncord/core';
import { WireClient } from '../lib/wire-client.mjs';

const TXN_ID = /"transactionId":"([^"]+)"/g;
const { url, databaseId, count, transactionIds, counter } = workerData;
const indexOf = new Map(transactionIds.map((id, i) => [id, i]));
const txns = transactionIds.length;
// received[s * txns + t]: when subscriber s first saw transaction t; NaN until then.
const received = new Float64Array(count * txns).fill(NaN);
const arrivals = new Int32Array(counter);
const clients = [];
let duplicates = 0;

async function subscribe(s) {
  const client = await WireClient.open(url);
  clients.push(client);
  await client.handshake(databaseId, encodeSiteId(newSiteId()));
  // Only the raw text is scanned for transaction ids: parsing every push would make this thread,
  // not the server, the latency under test.
  client.onRaw((raw) => {
    const at = performance.timeOrigin + performance.now();
    if (!raw.includes('"push_changes"')) return;
    for (const match of raw.matchAll(TXN_ID)) {
      const t = indexOf.get(match[1]);
      if (t === undefined) continue;
      const slot = s * txns + t;
      if (!Number.isNaN(received[slot])) {
        duplicates++;
        continue;
      }
      received[slot] = at;
      Atomics.add(arrivals, 0, 1);
    }
  });
}

parentPort.on('message', async (message) => {
  if (message.cmd !== 'finish') return;
  await Promise.all(clients.map((c) => c.close().catch(() => {})));
  parentPort.postMessage({ type: 'done', received, duplicates }, [received.buffer]);
});

try {
  // A few at a time: the server and the other workers share the machine while connecting.
  let next = 0;
  const lane = async () => {
    while (next < count) await subscribe(next++);
  };
  await Promise.all(Array.from({ length: Math.min(16, count) }, lane));
  parentPort.postMessage({ type: 'ready' });
} catch (err) {
  parentPort.postMessage({ type: 'failed', error: err instanceof Error ? err.message : String(err) });
}
