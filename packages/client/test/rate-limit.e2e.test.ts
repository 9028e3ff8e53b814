// End to end against the coordinator's per-connection message rate limit: a push it drops
// (RATE_LIMITED echoing the push's requestId) never leaves the client waiting for a reply that
// will not come; the client sends it again after a backoff and pushes everything. The limiter
// counts dropped messages too (a flooding client sinks into debt), so the retry delays must
// outgrow its refill: a backoff of 50 ms to 1 s here, where the tests' usual one stops at 100 ms.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { transactionIdOf } from '@syncord/core';
import { dump, Harness, NOTES } from './harness.js';
import { waitFor, within } from './helpers.js';

describe('a rate-limited client', () => {
  let h: Harness;
  beforeEach(() => {
    h = new Harness();
  });
  afterEach(() => h.dispose());

  it('is not stranded by a dropped push: it retries with backoff and every write arrives', async () => {
    const coord = await h.coordinator({ limits: { messageRatePerSecond: 20, messageBurst: 4 } });
    const a = h.memoryDb();
    const b = h.memoryDb();
    a.declareTable('notes', NOTES);
    const ca = h.client(a, { batchSize: 1, reconnect: { baseDelayMs: 50, maxDelayMs: 1000 } });
    const cb = h.client(b);
    await h.connectAll(coord.url, 'db', ca, cb);

    // One transaction per push, sent back to back: well past 4 messages at once.
    for (let id = 0; id < 30; id++) a.put('notes', { id, title: `t${id}` });
    await within(ca.whenSynced(), 10_000, 'A synced despite the rate limit');
    await waitFor(() => dump(a) === dump(b) && b.list('notes').length === 30, { what: 'B to get every row' });
    expect(h.errors.some((e) => e.code === 'RATE_LIMITED')).toBe(true);
    const ids = h.pushedBy(a).map((cs) => transactionIdOf(cs.hlc));
    expect(new Set(ids).size).toBe(31); // create_table + 30 rows, each applied
  });
});
