// @syncord/client: a local replica (LocalDatabase) and the SyncClient that keeps it in sync
// through a Syncord (or Quereus) coordinator. Browser-safe: SQLite storage lives in the separate
// entry point @syncord/client/sqlite.
export * from './database/index.js';
export * from './sync/index.js';
export { openMemoryReplica } from '@syncord/core';
export type { ChangeSet, Replica, SchemaMigration, SnapshotProgress, SqlValue } from '@syncord/core';
