// Snapshot streams (PROTOCOL.md §5) under a server-wide bound on concurrent streams, with a
// checked resume (DESIGN item 4): a checkpoint this database cannot have issued gets a fresh,
// complete snapshot (new snapshotId, nothing skipped) instead of a partial one.
import { bytesEqual, compareHLC, type Replica, type SiteId, type SnapshotCheckpoint } from '@syncord/core';
import { authorize } from './authorize.js';
import type { ServiceContext } from './context.js';
import { LimitExceededError, operationError } from './errors.js';
import { replicaOf, type Session } from './session.js';

const CODE = 'SNAPSHOT_ERROR';

/** Why a checkpoint is refused; the label of sync_snapshot_resume_refusals_total. */
export type ResumeRefusal = 'snapshot-id' | 'foreign-site' | 'future' | 'unknown-table' | 'too-old';

export interface ResumeProblem {
  readonly reason: ResumeRefusal;
  readonly message: string;
}

/** What this server puts in a header: crypto.randomUUID(). */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** "<schema>.<table>" may hold dots in either name, so any split naming a known table counts. */
function isKnownTable(replica: Replica, qualified: string): boolean {
  for (let dot = qualified.indexOf('.'); dot >= 0; dot = qualified.indexOf('.', dot + 1)) {
    if (replica.hasTable(qualified.slice(0, dot), qualified.slice(dot + 1))) return true;
  }
  return false;
}

/**
 * Why a checkpoint cannot be resumed here, or undefined when it can. A header this server issued
 * has a UUID snapshotId and the server clock's value as HLC, so that HLC carries this database's
 * site id and is not ahead of its clock's reading; every completed table must exist here; and the catch-up
 * from the HLC must still be possible (nothing it needs pruned).
 */
export function resumeProblem(
  replica: Replica,
  requester: SiteId,
  checkpoint: SnapshotCheckpoint,
): ResumeProblem | undefined {
  if (!UUID.test(checkpoint.snapshotId)) {
    return { reason: 'snapshot-id', message: 'the checkpoint snapshotId is not one this server issues (a UUID)' };
  }
  if (!bytesEqual(checkpoint.hlc.siteId, replica.siteId)) {
    return { reason: 'foreign-site', message: 'the checkpoint comes from another server site' };
  }
  // Against the clock's reading, not its state: in a cluster the header may come from a node
  // that merged the same entries a moment later, so its clock state is a little ahead of ours.
  if (compareHLC(checkpoint.hlc, replica.clockReading()) > 0) {
    return { reason: 'future', message: 'the checkpoint is ahead of this database clock' };
  }
  const unknown = checkpoint.completedTables.find((name) => !isKnownTable(replica, name));
  if (unknown !== undefined) {
    return { reason: 'unknown-table', message: `the checkpoint names a table this database lacks: ${unknown}` };
  }
  const delta = replica.canDeltaSync(requester, checkpoint.hlc);
  if (!delta.ok)
    return { reason: 'too-old', message: `the checkpoint is too old (${delta.reason ?? 'history pruned'})` };
  return undefined;
}

function takeSnapshotSlot(ctx: ServiceContext): () => void {
  const release = ctx.snapshotSlots.tryTake();
  if (release) {
    ctx.metrics.snapshotStreamsActive.inc();
    return () => {
      release();
      ctx.metrics.snapshotStreamsActive.dec();
    };
  }
  ctx.metrics.limitRejectionsTotal.inc({ limit: 'maxConcurrentSnapshots' });
  throw new LimitExceededError(
    CODE,
    'maxConcurrentSnapshots',
    `Too many concurrent snapshots (maxConcurrentSnapshots ${ctx.snapshotSlots.limit}); try again later`,
    503,
  );
}

/**
 * The chunks in order, each as its wire text (JSON of encodeSnapshotChunk: a server only forwards
 * them); any failure (authorization and the stream bound included) is a SNAPSHOT_ERROR.
 */
export async function* snapshotStream(
  ctx: ServiceContext,
  session: Session,
  resume?: SnapshotCheckpoint,
): AsyncGenerator<string, void, undefined> {
  ctx.metrics.snapshotRequestsTotal.inc();
  await authorize(ctx, session, resume ? { type: 'resume_snapshot' } : { type: 'get_snapshot' }, CODE);
  // Read-your-writes across nodes: every apply acknowledged anywhere is in the snapshot.
  await ctx.arrivals.caughtUp(session.databaseId);
  // Held until the stream ends, fails or is abandoned (return() runs the finally below).
  const release = takeSnapshotSlot(ctx);
  try {
    const replica = replicaOf(session);
    const requester = session.identity.siteId;
    let checked: SnapshotCheckpoint | undefined;
    try {
      const problem = resume ? resumeProblem(replica, requester, resume) : undefined;
      if (problem) {
        ctx.metrics.resumeRefusalsTotal.inc({ reason: problem.reason });
        ctx.log.info({ connectionId: session.connectionId, problem: problem.message }, 'resume refused: full snapshot');
      } else checked = resume;
    } catch (err) {
      throw operationError(ctx.log, session, err, CODE);
    }
    const chunks = replica.snapshotJson({ requester, ...(checked ? { resume: checked } : {}) });
    try {
      for await (const chunk of chunks) {
        ctx.metrics.snapshotChunksTotal.inc();
        yield chunk;
      }
    } catch (err) {
      throw operationError(ctx.log, session, err, CODE);
    }
  } finally {
    release();
  }
}
