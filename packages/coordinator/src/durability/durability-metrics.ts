// S3 durability metrics, registered in the coordinator's registry. The outbox gauges are read
// from the databases when scraped, so they are exact and cost nothing between scrapes.
import type { OutboxStats } from '@syncord/core';
import { Counter, Gauge, type Registry } from 'prom-client';

export interface OutboxTotals {
  readonly depth: number;
  /** Time of the oldest entry still waiting (ms), if any. */
  readonly oldestAt?: number;
}

export function totalsOf(stats: OutboxStats): OutboxTotals {
  return stats.oldestCreatedAt === undefined
    ? { depth: stats.count }
    : { depth: stats.count, oldestAt: stats.oldestCreatedAt };
}

/** Depths summed, the oldest entry kept. */
export function sumTotals(all: readonly OutboxTotals[]): OutboxTotals {
  let depth = 0;
  let oldestAt: number | undefined;
  for (const t of all) {
    depth += t.depth;
    if (t.oldestAt !== undefined && (oldestAt === undefined || t.oldestAt < oldestAt)) oldestAt = t.oldestAt;
  }
  return oldestAt === undefined ? { depth } : { depth, oldestAt };
}

export interface DurabilityMetrics {
  readonly batchUploadsTotal: Counter;
  readonly batchUploadFailuresTotal: Counter;
  readonly snapshotsTotal: Counter;
  readonly snapshotFailuresTotal: Counter;
  readonly restoresTotal: Counter;
  readonly restoreFailuresTotal: Counter;
  readonly evictionsTotal: Counter;
}

export function createDurabilityMetrics(
  registry: Registry,
  outbox: () => OutboxTotals,
  turns: () => number,
): DurabilityMetrics {
  const registers = [registry];
  new Gauge({
    name: 'sync_s3_archiving_turns',
    help: 'Open databases whose batches and snapshots this cluster node uploads (its archiving turns)',
    registers,
    collect() {
      this.set(turns());
    },
  });
  const counter = (name: string, help: string) => new Counter({ name, help, registers });
  new Gauge({
    name: 'sync_s3_outbox_depth',
    help: 'Applied batches waiting in outboxes for their S3 upload',
    registers,
    collect() {
      this.set(outbox().depth);
    },
  });
  new Gauge({
    name: 'sync_s3_outbox_oldest_age_seconds',
    help: 'Age of the oldest batch waiting for its S3 upload (0 when none waits)',
    registers,
    collect() {
      const { oldestAt } = outbox();
      this.set(oldestAt === undefined ? 0 : Math.max(0, (Date.now() - oldestAt) / 1000));
    },
  });
  return {
    batchUploadsTotal: counter('sync_s3_batch_uploads_total', 'Batch objects uploaded to S3'),
    batchUploadFailuresTotal: counter('sync_s3_batch_upload_failures_total', 'Failed batch upload attempts (retried)'),
    snapshotsTotal: counter('sync_s3_snapshots_total', 'Snapshots uploaded to S3'),
    snapshotFailuresTotal: counter('sync_s3_snapshot_failures_total', 'Snapshot uploads that failed'),
    restoresTotal: counter('sync_s3_restores_total', 'Databases restored from S3'),
    restoreFailuresTotal: counter('sync_s3_restore_failures_total', 'Restores from S3 that failed'),
    evictionsTotal: counter('sync_s3_evictions_total', 'Databases evicted from local disk'),
  };
}
