// @syncord/coordinator: the sync server, its transport-free service and its parts.
export { createCoordinatorServer } from './server.js';
export type { CoordinatorServer, CoordinatorServerOptions, ServerAddress } from './server.js';
export * from './service/index.js';
export * from './stores/index.js';
export {
  buildApp,
  normalizeBasePath,
  SHUTDOWN_CLOSE,
  HANDSHAKE_TIMEOUT_CLOSE,
  RATE_EXCEEDED_CLOSE,
  RATE_DROP_CLOSE,
  TOO_FAR_BEHIND,
  StaticDirError,
} from './transport/index.js';
export type { AppOptions, SocketSenderOptions } from './transport/index.js';
export * from './config/index.js';
export { createMetrics, DatabaseSessionGauge } from './metrics/index.js';
export type { CoordinatorMetrics, MetricsOptions } from './metrics/index.js';
export { createLogger } from './logging/index.js';
export * from './durability/index.js';
export * from './admin/index.js';
export { runCli } from './cli/index.js';
export type { CliContext, SignalSource } from './cli/index.js';
