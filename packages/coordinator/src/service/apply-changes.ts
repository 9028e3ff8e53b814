// An apply as the coordinator wraps it (PROTOCOL.md §6.4): limits, authorize, approve, origin
// check, apply, after-hook, broadcast, result. The merge itself is one synchronous engine call, so two applies
// to one database can never interleave their compare and write (DESIGN item 0).
import { ClockDriftError, encodeServerMessage, type ApplyResult, type ChangeSet } from '@syncord/core';
import { authorize } from './authorize.js';
import type { ServiceContext } from './context.js';
import { asProtocolError, describeError, LimitExceededError } from './errors.js';
import { callHook } from './hook-call.js';
import { checkOrigins } from './origin-check.js';
import { replicaOf, type Session } from './session.js';
import type { ApplyOutcome, ApprovalDecision, RejectedChangeSet, WireRejection } from './types.js';

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
  let changes = 0;
  for (const cs of changeSets) changes += cs.changes.length;
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

/** One serialization for every recipient; a failed send is counted and touches nobody else. */
function broadcast(ctx: ServiceContext, session: Session, approved: readonly ChangeSet[]): void {
  let message: string;
  try {
    message = encodeServerMessage({ type: 'push_changes', changeSets: approved });
  } catch (err) {
    ctx.metrics.broadcastErrorsTotal.inc();
    ctx.log.error({ err, databaseId: session.databaseId }, 'broadcast encoding failed');
    return;
  }
  const report = ctx.fanout.publish(session.databaseId, session.identity.siteId, message);
  ctx.metrics.changesBroadcastTotal.inc(approved.length * report.delivered);
  if (report.failed > 0) ctx.metrics.broadcastErrorsTotal.inc(report.failed);
}

export async function applyChanges(
  ctx: ServiceContext,
  session: Session,
  changeSets: readonly ChangeSet[],
): Promise<ApplyOutcome> {
  ctx.metrics.changesReceivedTotal.inc(changeSets.length);
  ctx.metrics.changeBatchSize.observe(changeSets.length);
  const stopTimer = ctx.metrics.applyChangesDuration.startTimer();
  checkLimits(ctx, changeSets);
  await authorize(ctx, session, { type: 'apply_changes', changeCount: changeSets.length }, CODE);
  const decision = await approve(ctx, session, changeSets);
  const replica = replicaOf(session);
  const rejected: RejectedChangeSet[] = [...decision.rejected];
  let approved = decision.approved;

  let result: ApplyResult;
  try {
    // From the origin check to the merge nothing awaits, so its verdict still holds when merged.
    if (ctx.strictOrigins && approved.length > 0) {
      const verdict = checkOrigins(replica, session.identity.siteId, approved);
      approved = verdict.allowed;
      rejected.push(...verdict.refused);
      if (verdict.refused.length > 0) ctx.metrics.originRejectionsTotal.inc(verdict.refused.length);
    }
    // With S3 on, the batch record goes into the database's outbox in the merge's own transaction.
    const outbox = ctx.durability?.batchRecorder(session.databaseId, session.identity.siteId, replica, approved);
    result =
      approved.length === 0
        ? { applied: 0, skipped: 0, conflicts: 0, transactions: 0 }
        : replica.applyChanges(approved, outbox ? { outbox } : undefined);
  } catch (err) {
    const prefix = err instanceof ClockDriftError ? 'Rejected' : 'Apply failed';
    throw asProtocolError(err, CODE, prefix);
  }
  ctx.metrics.changesAppliedTotal.inc(result.applied);
  if (rejected.length > 0) ctx.metrics.changesRejectedTotal.inc(rejected.length);

  notifyAfter(ctx, session, approved, result);
  ctx.durability?.afterApply(session.databaseId, result);
  if (result.applied > 0) broadcast(ctx, session, approved);
  stopTimer();

  const outcome: ApplyOutcome = { ...result };
  if (rejected.length > 0) {
    outcome.rejected = rejected.map((r): WireRejection => {
      const reason = typeof r.reason === 'string' ? r.reason : describeError(r.reason);
      return r.code === undefined ? { reason } : { reason, code: String(r.code) };
    });
  }
  return outcome;
}
