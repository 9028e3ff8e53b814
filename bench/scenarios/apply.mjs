// apply: one writer pushes rows as multi-row transactions with a few pushes in flight; the figure
// is cells acknowledged per second (acknowledged = the server answered apply_result for them).
import { insertMessages, Writer } from '../lib/change-sets.mjs';
import { cpuSeconds } from '../lib/proc-stats.mjs';
import { pushMessages } from '../lib/push.mjs';
import { perSecond } from '../lib/stats.mjs';

export default {
  name: 'apply',
  describe: (s) =>
    `${s.applyRows.toLocaleString('en-US')} rows, ${s.rowsPerTxn}-row × ${s.columns}-column txns, ${s.inFlight} in flight`,
  rows: [
    {
      key: 'cellsPerSec',
      label: 'apply',
      unit: 'cells/s',
      target: { op: '>=', value: 300_000 },
      reference: 12_500,
      limits: ['sqliteUpsertsPerSec', 'sqliteCommitsPerSec', 'jsonParseCellsPerSec'],
    },
    {
      // The figure that holds still on a shared machine; issue 14 sets 0.035.
      key: 'cpuSPer10kCells',
      label: 'apply server CPU',
      unit: 'CPU-s/10k cells',
      digits: 4,
      target: { op: '<=', value: 0.035 },
      limits: ['sqliteUpsertsPerSec', 'decodeCellsPerSec'],
    },
  ],

  async run(ctx) {
    const { applyRows, rowsPerTxn, columns, inFlight, timeoutS } = ctx.sizes;
    const writer = new Writer();
    const messages = insertMessages(writer, { rows: applyRows, rowsPerTxn, columns });
    const client = await ctx.open();
    await client.handshake(`bench-apply-${ctx.run}`, writer.siteIdText);
    const cpu0 = cpuSeconds(ctx.server.pid);
    const result = await pushMessages(client, messages, { inFlight, ackTimeoutMs: timeoutS * 1000 });
    const cpuS = cpuSeconds(ctx.server.pid) - cpu0;
    if (result.applied !== result.expected) {
      ctx.note(`apply: acks counted ${result.applied} applied cells of ${result.expected} sent`);
    }
    return {
      metrics: {
        cellsPerSec: perSecond(result.applied, result.elapsedMs),
        cpuSPer10kCells: result.applied > 0 ? (cpuS / result.applied) * 10_000 : NaN,
      },
    };
  },
};
