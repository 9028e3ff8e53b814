export { SyncClient, type ConnectOptions, type SyncClientEvents, type SyncClientOptions } from './sync-client.js';
export { SyncError, type RejectedChange, type SyncState, type SyncStatus } from './status.js';
export { Backoff, DEFAULT_BACKOFF, type BackoffOptions } from './backoff.js';
export type { SocketFactory, SocketLike } from './socket.js';
export type { OfflineCause } from './offline-cause.js';
