// Pushes this replica's own transactions to the server: in batches, one batch in flight, the
// next one after each apply_result, until nothing is pending. The sent watermark moves (and is
// persisted) only on acknowledgement, so a dropped connection re-pushes, never skips.
//
// Only transactions that originated here are sent. Everything else in the replica came from the
// server (the hub), so sending it back, as the reference client does, would only make the
// server count duplicates; pages holding nothing of ours just move the watermark on. Migrations
// the server already holds are left out too (a transaction left empty is not sent at all).
//
// A push the server refuses outright (APPLY_CHANGES_ERROR: a user who may not write) parks the
// pusher: the session has reported it once, and nothing is pushed again until a new local commit
// (wake) or the next connection. A push dropped by the server's rate limit (RATE_LIMITED naming
// its requestId) is sent again after a backoff delay, on the same connection.
import { maxChangeSetHlc, type ChangeSet, type HLC, type SchemaMigration, type SiteId } from '@syncord/core';
import type { ApplyResultMessage } from '@syncord/core';
import type { LocalDatabase } from '../database/local-database.js';
import type { Backoff } from './backoff.js';
import { SyncError, type RejectedChange } from './status.js';
import { isUnacknowledged, unacknowledged } from './unacknowledged.js';
import type { Watermarks } from './watermarks.js';

/** How a flush ended: nothing left to push, or the server refused the push (parked). */
export type PushOutcome = 'done' | 'refused';

export interface PushChannel {
  /** Sends apply_changes; resolves with its apply_result, rejects if the connection ends first. */
  apply(changeSets: readonly ChangeSet[]): Promise<ApplyResultMessage>;
}

export interface PusherOptions {
  readonly batchSize: number;
  readonly debounceMs: number;
  readonly onRejected: (rejected: RejectedChange) => void;
  /** A push that failed (connection closed, server error); the session decides what follows. */
  readonly onError: (err: unknown) => void;
  /** Called whenever `idle` may have changed. */
  readonly onActivity: () => void;
  /** Called each time the server acknowledged a batch (the sent watermark moved). */
  readonly onAcknowledged: () => void;
  /** Delays between re-sends of a push the server's rate limit dropped. */
  readonly retryBackoff: Backoff;
  /** True when the server is known to hold this migration already (so it is not pushed). */
  readonly serverHolds: (migration: SchemaMigration) => boolean;
}

interface Batch {
  /** Our unacknowledged transactions in the page, as sent (held migrations left out). */
  readonly own: ChangeSet[];
  /** The max HLC of our unacknowledged transactions in the page, sent or not. */
  readonly ownTop: HLC;
  /** The page's max HLC: once acknowledged, the position the next page starts from. */
  readonly top: HLC;
}

export class Pusher {
  private running: Promise<PushOutcome> | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private stopped = false;
  private parked = false;
  private wakeRetry: (() => void) | undefined;

  constructor(
    private readonly db: LocalDatabase,
    private readonly serverSiteId: SiteId,
    private readonly watermarks: Watermarks,
    private readonly channel: PushChannel,
    private readonly options: PusherOptions,
  ) {}

  /** No push running or scheduled (a parked pusher is idle: it waits for a new local commit). */
  get idle(): boolean {
    return this.running === undefined && this.timer === undefined;
  }

  /** Pushes soon; local commits in quick succession share one push. Does nothing while parked. */
  schedule(delayMs = this.options.debounceMs): void {
    if (this.stopped || this.parked || this.timer !== undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flush().catch((err: unknown) => this.options.onError(err));
    }, delayMs);
    this.options.onActivity();
  }

  /** A new local commit: a refused push may be tried again, with it (at the next schedule). */
  unpark(): void {
    this.parked = false;
  }

  /** Pushes until nothing is pending or the server refuses; rejects when a push fails otherwise. */
  async flush(): Promise<PushOutcome> {
    while (this.running) await this.running.catch(() => {});
    if (this.stopped) return 'done';
    if (this.parked) return 'refused';
    const running = this.loop();
    this.running = running;
    this.options.onActivity();
    try {
      return await running;
    } finally {
      this.running = undefined;
      this.options.onActivity();
    }
  }

  /** True when some transaction of ours is not acknowledged yet. Synchronous. */
  hasPending(): boolean {
    return this.nextBatch() !== undefined;
  }

  /** Every transaction of ours not acknowledged yet, as stored. Synchronous; moves no watermark. */
  unacknowledged(): ChangeSet[] {
    return unacknowledged(this.db, this.serverSiteId, this.watermarks, this.options.batchSize);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.wakeRetry?.();
  }

  private async loop(): Promise<PushOutcome> {
    while (!this.stopped) {
      const batch = this.nextBatch();
      if (!batch) return 'done';
      if (batch.own.length > 0) {
        // Pushed only once saved: a write lost in a crash must not be one the server holds (its
        // HLC could be handed out again, to another write).
        await this.db.whenSaved();
        if (this.stopped) return 'done';
        const result = await this.send(batch.own);
        if (result === 'refused') {
          this.parked = true;
          return 'refused';
        }
        if (result.rejected && result.rejected.length > 0) await this.reportRejections(batch.own, result);
      }
      this.watermarks.advanceSent(batch.ownTop);
      this.watermarks.setPushCursor(batch.top);
      this.options.onAcknowledged();
    }
    return 'done';
  }

  /**
   * One apply_changes and its apply_result. A drop by the rate limit is re-sent after a backoff
   * delay (never at once: that would only be dropped again); an outright refusal is returned.
   */
  private async send(sets: readonly ChangeSet[]): Promise<ApplyResultMessage | 'refused'> {
    while (true) {
      try {
        const result = await this.channel.apply(sets);
        this.options.retryBackoff.reset();
        return result;
      } catch (err) {
        if (!(err instanceof SyncError) || this.stopped) throw err;
        if (err.code === 'APPLY_CHANGES_ERROR') return 'refused';
        if (err.code !== 'RATE_LIMITED') throw err;
        await this.sleep(this.options.retryBackoff.next());
        if (this.stopped) throw err;
      }
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.wakeRetry = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wakeRetry = done;
    });
  }

  /** The next page holding unacknowledged transactions of ours, skipping pages without any. */
  private nextBatch(): Batch | undefined {
    const { replica } = this.db;
    while (true) {
      const cursor = this.watermarks.pushCursor();
      const page = replica.getChangesSince(this.serverSiteId, cursor, { batchSize: this.options.batchSize });
      if (page.length === 0) return undefined;
      const top = maxChangeSetHlc(page)!;
      const sent = this.watermarks.sent();
      const pending = page.filter((cs) => isUnacknowledged(this.db, cs, sent));
      if (pending.length > 0) return { own: this.withoutHeld(pending), ownTop: maxChangeSetHlc(pending)!, top };
      // Nothing pending here (others' facts, or ours re-inserted by a snapshot): move on. The
      // replica recorded this page's position, so the walk always ends.
      this.watermarks.setPushCursor(top);
    }
  }

  /** The transactions as they need sending: migrations the server holds left out, empty ones dropped. */
  private withoutHeld(sets: readonly ChangeSet[]): ChangeSet[] {
    const out: ChangeSet[] = [];
    for (const cs of sets) {
      const migrations = cs.schemaMigrations.filter((m) => !this.options.serverHolds(m));
      if (migrations.length === cs.schemaMigrations.length) out.push(cs);
      else if (migrations.length > 0 || cs.changes.length > 0) out.push({ ...cs, schemaMigrations: migrations });
    }
    return out;
  }

  /**
   * apply_result.rejected does not say which change set each entry refers to. With one set in
   * the batch it is that one; otherwise each set is pushed again on its own (re-pushing an
   * approved set is idempotent: the server counts duplicates and broadcasts nothing), so every
   * rejection is reported with its own transaction.
   */
  private async reportRejections(own: readonly ChangeSet[], result: ApplyResultMessage): Promise<void> {
    if (own.length === 1) {
      for (const r of result.rejected ?? []) this.report(own[0]!, r);
      return;
    }
    for (const cs of own) {
      const single = await this.send([cs]);
      if (single === 'refused') return;
      for (const r of single.rejected ?? []) this.report(cs, r);
    }
  }

  private report(transaction: ChangeSet, r: { reason: string; code?: string }): void {
    this.options.onRejected({ transaction, reason: r.reason, ...(r.code !== undefined ? { code: r.code } : {}) });
  }
}
