import { Replica } from '../replica/replica.js';
import type { ReplicaOptions } from '../replica/replica-api.js';
import { SqliteReplicaStore } from './sqlite-store.js';

/** Opens (or creates) the replica stored in the SQLite file at `path`. */
export function openSqliteReplica(path: string, options?: ReplicaOptions): Replica {
  const store = new SqliteReplicaStore(path);
  try {
    return Replica.open(store, options);
  } catch (err) {
    store.close();
    throw err;
  }
}
