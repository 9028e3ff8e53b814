// tenants: many brand-new databases, each one connection that handshakes, applies one row and
// closes, a few at a time; the figure is databases per second (the cost of creating a store).
import { performance } from 'node:perf_hooks';
import { insertMessages, Writer } from '../lib/change-sets.mjs';
import { perSecond } from '../lib/stats.mjs';

/** Runs the tenants load against ctx.server (the coordinator or the bare relay). */
export async function runTenants(ctx) {
  const { tenants, tenantConcurrency, columns, timeoutS } = ctx.sizes;
  // Encoded before the clock starts, like every other load.
  const jobs = Array.from({ length: tenants }, (_, i) => {
    const writer = new Writer();
    const [message] = insertMessages(writer, { rows: 1, rowsPerTxn: 1, columns });
    return { databaseId: `bench-tenant-${ctx.run}-${i}`, siteId: writer.siteIdText, message };
  });
  let next = 0;
  let done = 0;
  const lane = async () => {
    while (next < jobs.length && !ctx.aborted) {
      const job = jobs[next++];
      const client = await ctx.open();
      await client.handshake(job.databaseId, job.siteId);
      const ack = await client.request(
        job.message.text,
        (m) => m.type === 'apply_result' && m.requestId === job.message.requestId,
        timeoutS * 1000,
        'apply_result',
      );
      if (ack.applied !== job.message.cells) throw new Error(`tenant ${job.databaseId}: applied ${ack.applied}`);
      await client.close();
      done++;
    }
  };
  const start = performance.now();
  await Promise.all(Array.from({ length: Math.min(tenantConcurrency, tenants) }, lane));
  return { metrics: { databasesPerSec: perSecond(done, performance.now() - start) } };
}

export default {
  name: 'tenants',
  describe: (s) =>
    `${s.tenants.toLocaleString('en-US')} new databases, handshake + 1 apply + close, ${s.tenantConcurrency} at a time`,
  rows: [
    {
      key: 'databasesPerSec',
      label: 'tenants',
      unit: 'databases/s',
      target: { op: '>=', value: 3_000 },
      reference: 280,
      limits: ['relayDatabasesPerSec', 'sqliteCommitsPerSec'],
    },
  ],
  run: runTenants,
};
