// @syncord/client/sqlite (Node only): a LocalDatabase stored in a SQLite file, through the
// engine's SQLite store. Everything (cells, tombstones, migrations, sync watermarks, pending
// pushes, an interrupted snapshot's checkpoint) lives in that one file and survives a restart.
import type { ReplicaOptions } from '@syncord/core';
import { openSqliteReplica } from '@syncord/core/sqlite';
import { LocalDatabase } from './database/local-database.js';

export { openSqliteReplica };

export function openSqliteDatabase(path: string, options?: ReplicaOptions): LocalDatabase {
  return LocalDatabase.open({ replica: openSqliteReplica(path, options) });
}
