// Housekeeping (PROTOCOL.md §6.9): tombstones (and expired watermark records) past the retention
// horizon are pruned in every open database on a timer, and in each database as it opens — the
// pass at start, since nothing is open before — so a store that stayed closed for a long time is
// pruned before it serves anyone. Each database fails independently.
import type { Replica } from '@syncord/core';
import type { Logger } from 'pino';
import type { StoreManager } from '../stores/index.js';

export function pruneReplica(replica: Replica, databaseId: string, horizonMs: number, log: Logger): number {
  try {
    const pruned = replica.pruneTombstones(horizonMs);
    if (pruned > 0) log.info({ databaseId, pruned }, 'pruned tombstones past the retention horizon');
    return pruned;
  } catch (err) {
    log.error({ err, databaseId }, 'tombstone pruning failed');
    return 0;
  }
}

export class Maintenance {
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(
    private readonly stores: StoreManager,
    private readonly horizonMs: number,
    private readonly log: Logger,
    private readonly onPruned: (count: number) => void = () => {},
  ) {}

  start(intervalMs: number): void {
    if (this.timer || intervalMs <= 0) return;
    this.timer = setInterval(() => this.runOnce(), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Prunes every open database now; returns the tombstones removed. */
  runOnce(): number {
    let pruned = 0;
    this.stores.forEachOpen((databaseId, replica) => {
      pruned += pruneReplica(replica, databaseId, this.horizonMs, this.log);
    });
    this.onPruned(pruned);
    return pruned;
  }
}
