// An apply as the coordinator wraps it (PROTOCOL.md §6.4): limits, authorize, approve, then the
// database's arrival order (arrivals.ts: origin check and merge, durable), after-hook, result.
// What it applied is broadcast by whoever merged it (the service's onMerged), here or on another
// node of a cluster.
import { ClockDriftError, type ApplyResult, type ChangeSet } from '@syncord/core';
import { authorize } from './authorize.js';
import { dataChangeCount } from './backlog-request.js';
import type { ServiceContext } from './context.js';
import { asProtocolError, describeError, LimitExceededError, operationError } from './errors.js';
import { callHook } from './hook-call.js';
import { replicaOf, type Session } from './session.js';
import type { ApplyOutcome, ApprovalDecision, WireRejection } from './types.js';

const CODE = 'APPLY_CHANGES_ERROR';

function checkLimits(ctx: ServiceContext, changeSets: readonly ChangeSet[]): void {
  const { maxChangeSetsPerApply, maxChangesPerApply } = ctx.config.limits;
  if (changeSets.length > maxChangeSetsPerApply) {
    ctx.metrics.limitRejectionsTotal.inc({ limit: 'maxChangeSetsPerApply' });
    throw new LimitExceededError(
      CODE,
      'maxChangeSetsPerApply',
      `Too many change sets in one apply: ${changeSets.length} > maxChangeSetsPerApply ${maxChangeSetsPerApply}`,
    );
  }
  const changes = dataChangeCount(changeSets);
  if (changes > maxChangesPerApply) {
    ctx.metrics.limitRejectionsTotal.inc({ limit: 'maxChangesPerApply' });
    throw new LimitExceededError(
      CODE,
      'maxChangesPerApply',
      `Too many changes in one apply: ${changes} > maxChangesPerApply ${maxChangesPerApply}`,
    );
  }
}

async function approve(
  ctx: ServiceContext,
  session: Session,
  changeSets: readonly ChangeSet[],
): Promise<ApprovalDecision> {
  const hook = ctx.hooks.onBeforeApplyChanges;
  if (!hook) return { approved: changeSets, rejected: [] };
  let decision: ApprovalDecision;
  try {
    decision = await callHook('onBeforeApplyChanges', ctx.hookTimeoutMs, () => hook(session.identity, changeSets));
  } catch (err) {
    throw asProtocolError(err, CODE, 'onBeforeApplyChanges failed');
  }
  if (!decision || !Array.isArray(decision.approved) || !Array.isArray(decision.rejected)) {
    throw asProtocolError(
      new Error('it must return { approved: [], rejected: [] }'),
      CODE,
      'onBeforeApplyChanges failed',
    );
  }
  return decision;
}

function notifyAfter(ctx: ServiceContext, session: Session, approved: readonly ChangeSet[], result: ApplyResult): void {
  const hook = ctx.hooks.onAfterApplyChanges;
  if (!hook) return;
  callHook('onAfterApplyChanges', ctx.hookTimeoutMs, () => hook(session.identity, approved, { ...result })).catch(
    (err: unknown) => ctx.log.error({ err, connectionId: session.connectionId }, 'onAfterApplyChanges failed'),
  );
}

/** An apply past its checks and queued for the database's next group commit. */
export interface PendingApply {
  /** Settles after the commit: the outcome (acknowledged means durable) or the apply's own error. */
  readonly done: Promise<ApplyOutcome>;
}

/**
 * Limits, authorization and the approval hook; then the apply joins the database's group commit.
 * Resolves once it is queued, so a transport can read the next message of the connection (and let
 * it join the same group) while this one waits for the commit.
 */
export async function startApply(
  ctx: ServiceContext,
  session: Session,
  changeSets: readonly ChangeSet[],
): Promise<PendingApply> {
  ctx.metrics.changesReceivedTotal.inc(changeSets.length);
  ctx.metrics.changeBatchSize.observe(changeSets.length);
  const stopTimer = ctx.metrics.applyChangesDuration.startTimer();
  checkLimits(ctx, changeSets);
  await authorize(ctx, session, { type: 'apply_changes', changeCount: changeSets.length }, CODE);
  const decision = await approve(ctx, session, changeSets);
  const replica = replicaOf(session);
  const { durability } = ctx;
  const done = ctx.arrivals
    .submit(session.databaseId, replica, {
      siteId: session.identity.siteId,
      changeSets: decision.approved,
      checkOrigins: ctx.strictOrigins,
      // With S3 on, the batch record (the approved sets, as the reference archives them) goes into
      // the database's outbox in the merge's own savepoint.
      ...(durability
        ? {
            outbox: (allowed) =>
              durability.batchRecorder(session.databaseId, session.identity.siteId, replica, allowed),
          }
        : {}),
    })
    .then(
      ({ result, allowed, refused }) => {
        ctx.metrics.changesAppliedTotal.inc(result.applied);
        if (refused.length > 0) ctx.metrics.originRejectionsTotal.inc(refused.length);
        const rejected = [...decision.rejected, ...refused];
        if (rejected.length > 0) ctx.metrics.changesRejectedTotal.inc(rejected.length);
        notifyAfter(ctx, session, allowed, result);
        durability?.afterApply(session.databaseId, result);
        stopTimer();
        const outcome: ApplyOutcome = { ...result };
        if (rejected.length > 0) {
          outcome.rejected = rejected.map((r): WireRejection => {
            const reason = typeof r.reason === 'string' ? r.reason : describeError(r.reason);
            return r.code === undefined ? { reason } : { reason, code: String(r.code) };
          });
        }
        return outcome;
      },
      (err: unknown) => {
        const prefix = err instanceof ClockDriftError ? 'Rejected' : 'Apply failed';
        throw operationError(ctx.log, session, err, CODE, prefix);
      },
    );
  return { done };
}

export async function applyChanges(
  ctx: ServiceContext,
  session: Session,
  changeSets: readonly ChangeSet[],
): Promise<ApplyOutcome> {
  return (await startApply(ctx, session, changeSets)).done;
}
