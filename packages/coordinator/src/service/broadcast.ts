// Broadcast of what an apply changed to the database's other live sessions on this node
// (PROTOCOL.md §6.5), one serialization per broadcast, made only when some subscriber receives it.
import { encodeServerMessage, type ChangeSet, type SiteId } from '@syncord/core';
import type { ServiceContext } from './context.js';
import type { FanoutReport } from './fanout.js';

export function broadcast(
  ctx: Pick<ServiceContext, 'fanout' | 'metrics' | 'log'>,
  databaseId: string,
  origin: SiteId,
  changeSets: readonly ChangeSet[],
): void {
  let report: FanoutReport;
  try {
    report = ctx.fanout.publish(databaseId, origin, () =>
      encodeServerMessage({ type: 'push_changes', changeSets: [...changeSets] }),
    );
  } catch (err) {
    ctx.metrics.broadcastErrorsTotal.inc();
    ctx.log.error({ err, databaseId }, 'broadcast encoding failed');
    return;
  }
  ctx.metrics.changesBroadcastTotal.inc(changeSets.length * report.delivered);
  if (report.failed > 0) ctx.metrics.broadcastErrorsTotal.inc(report.failed);
}
