export { BATCH_SIZE_BUCKETS, createMetrics, DURATION_BUCKETS } from './metrics.js';
export type { CoordinatorMetrics, MetricsOptions } from './metrics.js';
export { DatabaseSessionGauge, OTHER_DATABASES } from './database-session-gauge.js';
