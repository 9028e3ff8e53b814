import { MemoryReplicaStore } from './memory-store.js';
import { Replica } from './replica.js';
import type { ReplicaOptions } from './replica-api.js';

/** A replica held in memory only (browsers, tests); it is gone when dropped. */
export function openMemoryReplica(options?: ReplicaOptions): Replica {
  return Replica.open(new MemoryReplicaStore(), options);
}
