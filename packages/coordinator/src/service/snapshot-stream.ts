// Snapshot streams (PROTOCOL.md §5) with a checked resume (DESIGN item 4): a checkpoint this
// database cannot have issued gets a fresh full snapshot instead of a partial one.
import {
  bytesEqual,
  compareHLC,
  type Replica,
  type SiteId,
  type SnapshotCheckpoint,
  type SnapshotChunk,
} from '@syncord/core';
import { authorize } from './authorize.js';
import type { ServiceContext } from './context.js';
import { asProtocolError } from './errors.js';
import { replicaOf, type Session } from './session.js';

const CODE = 'SNAPSHOT_ERROR';

/**
 * Why a checkpoint cannot be resumed here, or undefined when it can. A header HLC is the server
 * clock's value, so it carries this database's site id and is not ahead of its clock; and the
 * catch-up from it must still be possible.
 */
export function resumeProblem(replica: Replica, requester: SiteId, checkpoint: SnapshotCheckpoint): string | undefined {
  if (!bytesEqual(checkpoint.hlc.siteId, replica.siteId)) return 'the checkpoint comes from another server site';
  if (compareHLC(checkpoint.hlc, replica.clockNow()) > 0) return 'the checkpoint is ahead of this database clock';
  const delta = replica.canDeltaSync(requester, checkpoint.hlc);
  if (!delta.ok) return `the checkpoint is too old (${delta.reason ?? 'history pruned'})`;
  return undefined;
}

/** The chunks in order; any failure (authorization included) is a SNAPSHOT_ERROR. */
export async function* snapshotStream(
  ctx: ServiceContext,
  session: Session,
  resume?: SnapshotCheckpoint,
): AsyncGenerator<SnapshotChunk, void, undefined> {
  ctx.metrics.snapshotRequestsTotal.inc();
  await authorize(ctx, session, resume ? { type: 'resume_snapshot' } : { type: 'get_snapshot' }, CODE);
  const replica = replicaOf(session);
  const requester = session.identity.siteId;
  let checked: SnapshotCheckpoint | undefined;
  try {
    const problem = resume ? resumeProblem(replica, requester, resume) : undefined;
    if (problem) ctx.log.info({ connectionId: session.connectionId, problem }, 'resume refused: full snapshot');
    else checked = resume;
  } catch (err) {
    throw asProtocolError(err, CODE);
  }
  const chunks = replica.snapshot({ requester, ...(checked ? { resume: checked } : {}) });
  try {
    for await (const chunk of chunks) {
      ctx.metrics.snapshotChunksTotal.inc();
      yield chunk;
    }
  } catch (err) {
    throw asProtocolError(err, CODE);
  }
}
