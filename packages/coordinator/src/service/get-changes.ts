// A catch-up (PROTOCOL.md §6.2). On WebSocket the whole catch-up answers one get_changes, as
// consecutive pages of at most sync.batchSize data changes (whole transactions), every page but
// the last with `more: true`; each page's max is a watermark the client may resume from. Over
// HTTP it is one page (callers page by asking again). A watermark the database can no longer serve
// gap-free (history pruned past the retention horizon) is refused with RESYNC_REQUIRED instead of
// silently missing deletes (DESIGN item 6).
import { ProtocolError, type ChangeSet, type ChangesCursor, type ChangesPageJson, type HLC } from '@syncord/core';
import { authorize } from './authorize.js';
import type { ServiceContext } from './context.js';
import { operationError } from './errors.js';
import { replicaOf, type Session } from './session.js';

const CODE = 'GET_CHANGES_ERROR';

/** Authorizes and checks the watermark, then opens the catch-up; failures are GET_CHANGES_ERROR or RESYNC_REQUIRED. */
async function openCatchUp(ctx: ServiceContext, session: Session, sinceHLC?: HLC): Promise<ChangesCursor> {
  await authorize(ctx, session, sinceHLC ? { type: 'get_changes', sinceHLC } : { type: 'get_changes' }, CODE);
  // Read-your-writes across nodes: every apply acknowledged anywhere is in the catch-up.
  await ctx.arrivals.caughtUp(session.databaseId);
  const replica = replicaOf(session);
  const requester = session.identity.siteId;
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
    return replica.openChangesCursor(requester, sinceHLC, { batchSize: ctx.config.sync.batchSize });
  } catch (err) {
    throw operationError(ctx.log, session, err, CODE);
  }
}

/** `read` of the cursor, with a failure reported as GET_CHANGES_ERROR. */
function nextPage<T>(ctx: ServiceContext, session: Session, read: () => T): T {
  try {
    return read();
  } catch (err) {
    throw operationError(ctx.log, session, err, CODE);
  }
}

/** The first page of the catch-up (HTTP). */
export async function getChanges(ctx: ServiceContext, session: Session, sinceHLC?: HLC): Promise<ChangeSet[]> {
  const stopTimer = ctx.metrics.getChangesDuration.startTimer();
  const cursor = await openCatchUp(ctx, session, sinceHLC);
  const { changeSets } = nextPage(ctx, session, () => cursor.next());
  stopTimer();
  return changeSets;
}

/**
 * The whole catch-up, page by page, as wire text (nothing on the way decodes it again). Each page
 * is read when the consumer asks for it, so a
 * consumer that waits for its socket to drain between pages keeps memory to about one page.
 * `stopped` is asked before every page after the first: once true the stream ends quietly (the
 * client resumes from the last page it received).
 */
export async function* changesStream(
  ctx: ServiceContext,
  session: Session,
  sinceHLC: HLC | undefined,
  stopped: () => boolean,
): AsyncGenerator<ChangesPageJson, void, undefined> {
  const stopTimer = ctx.metrics.getChangesDuration.startTimer();
  const cursor = await openCatchUp(ctx, session, sinceHLC);
  for (let first = true; first || !stopped(); first = false) {
    const page = nextPage(ctx, session, () => cursor.nextJson());
    if (!page.more) stopTimer();
    yield page;
    if (!page.more) return;
  }
}
