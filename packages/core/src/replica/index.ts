export * from './replica-api.js';
export { Replica, type LiveRow } from './replica.js';
export { openMemoryReplica } from './memory-replica.js';
export { MemoryReplicaStore } from './memory-store.js';
export type {
  MemoryRecord,
  MemoryStoreOptions,
  RecordWrite,
  RowRecordCell,
  RowRecordTombstone,
} from './memory-records.js';
export type { LocalChange, LocalMigration, LocalTransaction } from './local-commit.js';
export { pkKeyOf } from './pk-key.js';
export type {
  ReplicaStore,
  TableRef,
  StoredCell,
  StoredTombstone,
  StoredMigration,
  ScannedFact,
  ScannedTx,
  MigrationKind,
  RowVersions,
  WatermarkRecord,
  RowWrite,
  TombstoneCursor,
  SnapshotReader,
  PruneResult,
  TableStats,
} from './store.js';
export { tableRef, migrationKind } from './store.js';
export { STORE_FORMAT_VERSION } from './engine.js';
export type { CoverageNote } from './watermarks.js';
