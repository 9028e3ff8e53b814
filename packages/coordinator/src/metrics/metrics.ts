import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { DatabaseSessionGauge } from './database-session-gauge.js';

/** PROTOCOL.md §6.8's buckets for the apply and get-changes durations, in seconds. */
export const DURATION_BUCKETS: readonly number[] = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10];
/** PROTOCOL.md §6.8's buckets for ChangeSets per apply. */
export const BATCH_SIZE_BUCKETS: readonly number[] = [1, 10, 50, 100, 500, 1e3, 5e3, 1e4, 5e4, 1e5];

/** Every metric the coordinator exports: PROTOCOL.md §6.8's names, plus Syncord's own. */
export interface CoordinatorMetrics {
  readonly registry: Registry;
  readonly wsConnectionsTotal: Counter;
  readonly wsConnectionsActive: Gauge;
  readonly httpRequestsTotal: Counter<'route' | 'method' | 'status'>;
  readonly httpRequestDuration: Histogram<'route'>;
  readonly changesAppliedTotal: Counter;
  readonly changesReceivedTotal: Counter;
  readonly changesRejectedTotal: Counter;
  readonly changesBroadcastTotal: Counter;
  readonly broadcastErrorsTotal: Counter;
  readonly snapshotRequestsTotal: Counter;
  readonly snapshotChunksTotal: Counter;
  readonly authAttemptsTotal: Counter;
  readonly authFailuresTotal: Counter;
  readonly applyChangesDuration: Histogram;
  readonly getChangesDuration: Histogram;
  readonly changeBatchSize: Histogram;
  readonly openStores: Gauge;
  readonly databaseSessions: DatabaseSessionGauge;
  readonly errorsTotal: Counter<'code'>;
  readonly limitRejectionsTotal: Counter<'limit'>;
  readonly pingTimeoutsTotal: Counter;
  readonly sendBufferPeakBytes: Gauge;
  readonly snapshotStreamsActive: Gauge;
  readonly originRejectionsTotal: Counter;
  readonly resumeRefusalsTotal: Counter<'reason'>;
  readonly tombstonesPrunedTotal: Counter;
}

export interface MetricsOptions {
  /**
   * Name databases in labels (config `metrics.perDatabaseLabels`); default false, which counts
   * every database as `database="_other"` so a scrape names no tenant.
   */
  perDatabaseLabels?: boolean;
  /** With perDatabaseLabels, databases with their own `sync_database_sessions` series; default 50. */
  maxDatabaseSeries?: number;
}

/**
 * A fresh registry per call, so several servers in one process (tests, embedding apps) never
 * share or collide on metrics; Node's default process metrics are collected into it.
 */
export function createMetrics(options: MetricsOptions = {}): CoordinatorMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  const counter = <L extends string = string>(name: string, help: string, labelNames: readonly L[] = []) =>
    new Counter<L>({ name, help, labelNames, registers });
  const gauge = (name: string, help: string) => new Gauge({ name, help, registers });
  const histogram = <L extends string = string>(
    name: string,
    help: string,
    buckets: readonly number[],
    labelNames: readonly L[] = [],
  ) => new Histogram<L>({ name, help, buckets: [...buckets], labelNames, registers });

  return {
    registry,
    wsConnectionsTotal: counter('sync_websocket_connections_total', 'WebSocket connections accepted'),
    wsConnectionsActive: gauge('sync_websocket_connections_active', 'WebSocket connections open now'),
    httpRequestsTotal: counter('sync_http_requests_total', 'HTTP requests answered', ['route', 'method', 'status']),
    httpRequestDuration: histogram(
      'sync_http_request_duration_seconds',
      'HTTP request duration in seconds',
      DURATION_BUCKETS,
      ['route'],
    ),
    changesAppliedTotal: counter('sync_changes_applied_total', 'Data changes applied (ApplyResult.applied)'),
    changesReceivedTotal: counter('sync_changes_received_total', 'ChangeSets received for apply'),
    changesRejectedTotal: counter('sync_changes_rejected_total', 'ChangeSets rejected by onBeforeApplyChanges'),
    changesBroadcastTotal: counter('sync_changes_broadcast_total', 'ChangeSets pushed, times recipients'),
    broadcastErrorsTotal: counter('sync_broadcast_errors_total', 'Pushes to a session that failed'),
    snapshotRequestsTotal: counter('sync_snapshot_requests_total', 'Snapshot requests, fresh and resumed'),
    snapshotChunksTotal: counter('sync_snapshot_chunks_total', 'Snapshot chunks sent'),
    authAttemptsTotal: counter('sync_auth_attempts_total', 'Authentication attempts'),
    authFailuresTotal: counter('sync_auth_failures_total', 'Authentication attempts that failed'),
    applyChangesDuration: histogram(
      'sync_apply_changes_duration_seconds',
      'Successful apply duration in seconds',
      DURATION_BUCKETS,
    ),
    getChangesDuration: histogram(
      'sync_get_changes_duration_seconds',
      'Successful get-changes duration in seconds',
      DURATION_BUCKETS,
    ),
    changeBatchSize: histogram('sync_change_batch_size', 'ChangeSets per apply', BATCH_SIZE_BUCKETS),
    openStores: gauge('sync_open_stores', 'Databases open now'),
    databaseSessions: new DatabaseSessionGauge(registry, options.perDatabaseLabels ? options.maxDatabaseSeries : 0),
    errorsTotal: counter('sync_errors_total', 'Protocol errors sent, by code', ['code']),
    limitRejectionsTotal: counter('sync_limit_rejections_total', 'Requests refused by a configured limit', ['limit']),
    pingTimeoutsTotal: counter('sync_websocket_ping_timeouts_total', 'WebSockets terminated for a missed pong'),
    sendBufferPeakBytes: gauge(
      'sync_websocket_send_buffer_peak_bytes',
      'Largest send buffer any WebSocket reached since start, in bytes',
    ),
    snapshotStreamsActive: gauge('sync_snapshot_streams_active', 'Snapshot streams in progress'),
    originRejectionsTotal: counter(
      'sync_origin_rejections_total',
      'ChangeSets refused because they carry facts of another site the server does not hold',
    ),
    resumeRefusalsTotal: counter(
      'sync_snapshot_resume_refusals_total',
      'Resume checkpoints refused (a fresh full snapshot was sent), by reason',
      ['reason'],
    ),
    tombstonesPrunedTotal: counter('sync_tombstones_pruned_total', 'Tombstones pruned past the retention horizon'),
  };
}
