// Metrics of a cluster node, registered in the coordinator's registry: how its appends to the
// shared log fare, what it merges (from every node), and whether it reaches NATS.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export interface ClusterMetrics {
  readonly appendsTotal: Counter<'result'>;
  readonly appendSeconds: Histogram;
  readonly entriesMergedTotal: Counter<'origin'>;
}

const APPEND_BUCKETS = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

export function createClusterMetrics(registry: Registry, connected: () => boolean): ClusterMetrics {
  const registers = [registry];
  new Gauge({
    name: 'sync_cluster_connected',
    help: '1 while this node reaches NATS JetStream, else 0 (it then refuses writes)',
    registers,
    collect() {
      this.set(connected() ? 1 : 0);
    },
  });
  return {
    appendsTotal: new Counter({
      name: 'sync_cluster_appends_total',
      help: 'Applies this node appended to the cluster log, by result (ok, failed)',
      labelNames: ['result'] as const,
      registers,
    }),
    appendSeconds: new Histogram({
      name: 'sync_cluster_append_seconds',
      help: 'From append to JetStream acknowledgement and merge on this node, in seconds',
      buckets: APPEND_BUCKETS,
      registers,
    }),
    entriesMergedTotal: new Counter({
      name: 'sync_cluster_entries_merged_total',
      help: 'Cluster log entries this node merged, by origin (local: appended here, remote: by another node)',
      labelNames: ['origin'] as const,
      registers,
    }),
  };
}
