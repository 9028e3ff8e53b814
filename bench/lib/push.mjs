// Pushes prepared apply_changes messages over one socket with a fixed number in flight, the way a
// writer that pipelines its pushes does. Used by the apply scenario and to preload databases.
import { performance } from 'node:perf_hooks';

/**
 * Sends every message, keeping at most `inFlight` unacknowledged; resolves when all are acked.
 * Returns { applied, expected, elapsedMs, latencies } where `applied` sums the acks' `applied`
 * counts and `latencies` holds each push's send→ack time in ms.
 */
export async function pushMessages(client, messages, { inFlight, ackTimeoutMs }) {
  let next = 0;
  let applied = 0;
  const latencies = [];
  const lane = async () => {
    while (next < messages.length) {
      const message = messages[next++];
      const sentAt = performance.now();
      const ack = await client.request(
        message.text,
        (m) => m.type === 'apply_result' && m.requestId === message.requestId,
        ackTimeoutMs,
        `apply_result ${message.requestId}`,
      );
      latencies.push(performance.now() - sentAt);
      applied += ack.applied ?? 0;
      if (ack.rejected?.length) throw new Error(`apply rejected: ${JSON.stringify(ack.rejected[0])}`);
    }
  };
  const start = performance.now();
  await Promise.all(Array.from({ length: Math.max(1, inFlight) }, lane));
  const elapsedMs = performance.now() - start;
  const expected = messages.reduce((sum, m) => sum + m.cells, 0);
  return { applied, expected, elapsedMs, latencies };
}
