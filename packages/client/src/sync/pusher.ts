// Pushes this replica's own transactions to the server: in batches, one batch in flight, the
// next one after each apply_result, until nothing is pending. The sent watermark moves (and is
// persisted) only on acknowledgement, so a dropped connection re-pushes, never skips.
//
// Only transactions that originated here are sent. Everything else in the replica came from the
// server (the hub), so sending it back, as the reference client does, would only make the
// server count duplicates; pages holding nothing of ours just move the watermark on.
import { bytesEqual, compareHLC, type ChangeSet, type HLC, type SiteId } from '@syncord/core';
import type { ApplyResultMessage } from '@syncord/core';
import type { LocalDatabase } from '../database/local-database.js';
import type { RejectedChange } from './status.js';
import type { Watermarks } from './watermarks.js';

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
}

interface Batch {
  readonly own: ChangeSet[];
  /** The page's max HLC: once acknowledged, the position the next page starts from. */
  readonly top: HLC;
}

export class Pusher {
  private running: Promise<void> | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private stopped = false;

  constructor(
    private readonly db: LocalDatabase,
    private readonly serverSiteId: SiteId,
    private readonly watermarks: Watermarks,
    private readonly channel: PushChannel,
    private readonly options: PusherOptions,
  ) {}

  /** No push running or scheduled. */
  get idle(): boolean {
    return this.running === undefined && this.timer === undefined;
  }

  /** Pushes soon; local commits in quick succession share one push. */
  schedule(delayMs = this.options.debounceMs): void {
    if (this.stopped || this.timer !== undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flush().catch((err: unknown) => this.options.onError(err));
    }, delayMs);
    this.options.onActivity();
  }

  /** Pushes until nothing is pending; rejects when a push fails. */
  async flush(): Promise<void> {
    while (this.running) await this.running.catch(() => {});
    if (this.stopped) return;
    this.running = this.loop();
    this.options.onActivity();
    try {
      await this.running;
    } finally {
      this.running = undefined;
      this.options.onActivity();
    }
  }

  /** True when some transaction of ours is not acknowledged yet. Synchronous. */
  hasPending(): boolean {
    return this.nextBatch() !== undefined;
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      const batch = this.nextBatch();
      if (!batch) return;
      const result = await this.channel.apply(batch.own);
      if (result.rejected && result.rejected.length > 0) await this.reportRejections(batch.own, result);
      this.watermarks.advanceSent(maxHlc(batch.own));
      this.watermarks.setPushCursor(batch.top);
    }
  }

  /** The next page holding unacknowledged transactions of ours, skipping pages without any. */
  private nextBatch(): Batch | undefined {
    const { replica } = this.db;
    while (true) {
      const cursor = this.watermarks.pushCursor();
      const page = replica.getChangesSince(this.serverSiteId, cursor, { batchSize: this.options.batchSize });
      if (page.length === 0) return undefined;
      const top = maxHlc(page);
      const sent = this.watermarks.sent();
      const own = page.filter((cs) => bytesEqual(cs.siteId, replica.siteId) && (!sent || compareHLC(cs.hlc, sent) > 0));
      if (own.length > 0) return { own, top };
      // Nothing pending here (others' facts, or ours re-inserted by a snapshot): move on. The
      // replica recorded this page's position, so the walk always ends.
      this.watermarks.setPushCursor(top);
    }
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
      const single = await this.channel.apply([cs]);
      for (const r of single.rejected ?? []) this.report(cs, r);
    }
  }

  private report(transaction: ChangeSet, r: { reason: string; code?: string }): void {
    this.options.onRejected({ transaction, reason: r.reason, ...(r.code !== undefined ? { code: r.code } : {}) });
  }
}

function maxHlc(sets: readonly ChangeSet[]): HLC {
  return sets.reduce((max, cs) => (compareHLC(cs.hlc, max) > 0 ? cs.hlc : max), sets[0]!.hlc);
}
