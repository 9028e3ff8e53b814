// A slot whose tab closed while offline keeps that tab's unsent writes, and nobody pushes them
// until a tab takes that slot again (the other tabs hold them, but each pushes only its own). So a
// tab that opens takes over every slot no tab holds: it re-commits the slot's unacknowledged
// transactions as its own (same values, new HLCs; SyncClient pushes them) and deletes the slot's
// database. A slot freed by a tab that is reloading can be taken over too, if another tab opens in
// that instant: nothing is lost (its writes move here), the reloaded tab just starts a new slot.
import {
  bytesEqual,
  compareHLC,
  decodeHLC,
  MemoryReplicaStore,
  Replica,
  type ChangeSet,
  type HLC,
  type MemoryRecord,
  type SiteId,
} from '@syncord/core';
import type { LocalDatabase } from '../database/local-database.js';
import { IndexedDbLog } from './indexeddb-log.js';
import { tryTakeSlot } from './tab-slot.js';

/** Local keys the sync client keeps its acknowledged-push watermark under (one per server). */
const SENT_PREFIX = 'local:syncord.sent.';

export async function adoptFreeSlots(
  name: string,
  mine: number,
  maxSlots: number,
  into: LocalDatabase,
  dbName: (slot: number) => string,
  onError: (err: Error) => void,
): Promise<number> {
  // Without a way to list databases (older Firefox) no slot is taken over: they wait for a tab.
  if (typeof indexedDB.databases !== 'function') return 0;
  const existing = new Set((await indexedDB.databases()).map((d) => d.name));
  let adopted = 0;
  for (let slot = 0; slot < maxSlots; slot++) {
    if (slot === mine || !existing.has(dbName(slot))) continue;
    const lock = await tryTakeSlot(name, slot);
    if (!lock) continue;
    try {
      const { log, loaded } = await IndexedDbLog.open(dbName(slot), onError);
      let unsent: ChangeSet[];
      try {
        const store = new MemoryReplicaStore();
        store.load(loaded);
        const replica = Replica.open(store);
        unsent = unacknowledged(replica, loaded, into.siteId);
        replica.close();
      } finally {
        log.close();
      }
      into.commitAgain(
        unsent.map((cs) => ({ ...cs, schemaMigrations: cs.schemaMigrations.filter((m) => !into.replica.holds(m)) })),
      );
      await into.whenSaved();
      await deleteDatabase(dbName(slot));
      adopted++;
    } finally {
      lock.release();
    }
  }
  return adopted;
}

/** The replica's own transactions above its lowest acknowledged-push watermark (all when none). */
function unacknowledged(replica: Replica, records: readonly MemoryRecord[], reader: SiteId): ChangeSet[] {
  let sent: HLC | undefined;
  let first = true;
  for (const r of records) {
    if (r.kind !== 'meta' || !r.key.startsWith(SENT_PREFIX)) continue;
    const hlc = decodeHLC(r.value);
    if (first || (sent && compareHLC(hlc, sent) < 0)) sent = hlc;
    first = false;
  }
  // Read as `reader` would be served: a catch-up leaves out the reader's own facts, not these.
  return replica
    .getChangesSince(reader, undefined, { batchSize: Infinity })
    .filter((cs) => bytesEqual(cs.siteId, replica.siteId) && (!sent || compareHLC(cs.hlc, sent) > 0));
}

function deleteDatabase(name: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = indexedDB.deleteDatabase(name);
    req.onsuccess = () => resolve();
    req.onerror = () => reject(req.error ?? new Error(`Could not delete IndexedDB database ${name}`));
  });
}
