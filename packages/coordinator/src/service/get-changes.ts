// A catch-up (PROTOCOL.md §6.2). A watermark the database can no longer serve gap-free (history
// pruned past the retention horizon) is refused with RESYNC_REQUIRED instead of silently missing
// deletes (DESIGN item 6).
import { ProtocolError, type ChangeSet, type HLC } from '@syncord/core';
import { authorize } from './authorize.js';
import type { ServiceContext } from './context.js';
import { operationError } from './errors.js';
import { replicaOf, type Session } from './session.js';

const CODE = 'GET_CHANGES_ERROR';

export async function getChanges(ctx: ServiceContext, session: Session, sinceHLC?: HLC): Promise<ChangeSet[]> {
  const stopTimer = ctx.metrics.getChangesDuration.startTimer();
  await authorize(ctx, session, sinceHLC ? { type: 'get_changes', sinceHLC } : { type: 'get_changes' }, CODE);
  const replica = replicaOf(session);
  const requester = session.identity.siteId;
  let changeSets: ChangeSet[];
  try {
    if (sinceHLC) {
      const check = replica.canDeltaSync(requester, sinceHLC);
      if (!check.ok) {
        throw new ProtocolError(
          'RESYNC_REQUIRED',
          `Cannot catch up from this watermark${check.reason ? `: ${check.reason}` : ''}; take a snapshot`,
        );
      }
    }
    changeSets = replica.getChangesSince(requester, sinceHLC, { batchSize: ctx.config.sync.batchSize });
  } catch (err) {
    throw operationError(ctx.log, session, err, CODE);
  }
  stopTimer();
  return changeSets;
}
