// @syncord/core/sqlite: the SQLite-backed replica (Node only; the rest of core runs in browsers).
export { openSqliteReplica } from './open-sqlite-replica.js';
export { createSqliteReplicaFile } from './replica-file.js';
export { SqliteReplicaStore } from './sqlite-store.js';
