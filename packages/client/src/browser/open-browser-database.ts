// A LocalDatabase that survives reloads: the replica lives in memory (reads and writes stay
// synchronous) and every committed store transaction is saved to IndexedDB in commit order
// (indexeddb-log.ts). Slots no open tab holds are taken over on open (adopt-slots.ts).
// Opening loads it back whole, data, unsent writes and sync watermarks alike, so a SyncClient
// resumes with a catch-up from where it was, not a snapshot. Each tab owns one storage slot (see
// tab-slot.ts) and shares its writes with the other tabs (tab-channel.ts).
import { MemoryReplicaStore, Replica, type ReplicaOptions } from '@syncord/core';
import { LocalDatabase } from '../database/local-database.js';
import { adoptFreeSlots } from './adopt-slots.js';
import { IndexedDbLog } from './indexeddb-log.js';
import { TabChannel } from './tab-channel.js';
import { takeSlot, type TabSlot } from './tab-slot.js';

export interface BrowserDatabaseOptions extends Pick<ReplicaOptions, 'allowResurrection'> {
  /** How many tabs may have the database open at once (one storage slot each). Default 16. */
  readonly maxTabs?: number;
  /** Called when saving to IndexedDB or sharing with other tabs failed; default: console.error. */
  readonly onError?: (err: unknown) => void;
}

const DEFAULT_MAX_TABS = 16;
const NAME = /^[A-Za-z0-9_.:-]{1,100}$/;

export class BrowserDatabase {
  private closing: Promise<void> | undefined;

  /** @internal use openBrowserDatabase */
  constructor(
    /** The replica: pass it to `new SyncClient(...)`, read and write it as any LocalDatabase. */
    readonly database: LocalDatabase,
    private readonly records: IndexedDbLog,
    private readonly tabs: TabChannel,
    private readonly slotLock: TabSlot,
  ) {}

  /** This tab's storage slot (0 for the first tab open, 1 for the second, ...). */
  get slot(): number {
    return this.slotLock.index;
  }

  /** Local commits not yet saved to IndexedDB (normally 0 within milliseconds of a write). */
  get unsavedCommits(): number {
    return this.records.pending;
  }

  /** Resolves once every write made so far is saved in IndexedDB; rejects when saving failed. */
  whenSaved(): Promise<void> {
    return this.records.whenSaved();
  }

  /**
   * Saves what is pending, stops sharing with other tabs, closes the database and frees the slot.
   * Disconnect the SyncClient first.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.tabs.close();
      await this.records.whenSaved().catch(() => {});
      this.database.close();
      this.records.close();
      this.slotLock.release();
    })();
    return this.closing;
  }
}

/**
 * Opens the persistent replica `name` for this tab: takes a free storage slot, loads its replica
 * from IndexedDB (creating it on first use) and joins the other tabs of this origin that opened
 * `name`. Needs IndexedDB, Web Locks and BroadcastChannel (any current browser; a secure context:
 * https or localhost).
 */
export async function openBrowserDatabase(
  name: string,
  options: BrowserDatabaseOptions = {},
): Promise<BrowserDatabase> {
  if (typeof name !== 'string' || !NAME.test(name)) {
    throw new TypeError(
      `openBrowserDatabase: name must be 1-100 letters, digits or _.:- characters, got ${String(name)}`,
    );
  }
  const maxTabs = options.maxTabs ?? DEFAULT_MAX_TABS;
  if (!Number.isSafeInteger(maxTabs) || maxTabs < 1 || maxTabs > 1000) {
    throw new RangeError(`openBrowserDatabase: maxTabs must be an integer from 1 to 1000, got ${maxTabs}`);
  }
  if (typeof indexedDB === 'undefined' || typeof BroadcastChannel === 'undefined') {
    throw new Error('openBrowserDatabase needs IndexedDB and BroadcastChannel (a browser page or worker)');
  }
  const onError = options.onError ?? ((err: unknown) => console.error('@syncord/client/browser:', err));
  const slot = await takeSlot(name, maxTabs);
  try {
    const slotDbName = (index: number): string => `syncord:${name}:${index}`;
    const { log: records, loaded } = await IndexedDbLog.open(slotDbName(slot.index), onError);
    try {
      let compaction: ReturnType<typeof setTimeout> | undefined;
      const compactSoon = (): void => {
        if (compaction !== undefined || !records.wantsCompaction) return;
        // After the burst of commits in progress (a snapshot's chunks), not inside one.
        compaction = setTimeout(() => {
          compaction = undefined;
          if (!database.isClosed) records.compact(store.exportRecords());
        }, 0);
      };
      const store = new MemoryReplicaStore({
        onCommit: (writes, durable) => {
          records.append(writes, durable);
          compactSoon();
        },
      });
      store.load(loaded);
      const replica = Replica.open(store, options.allowResurrection ? { allowResurrection: true } : {});
      const database: LocalDatabase = LocalDatabase.open({ replica, whenSaved: () => records.whenSaved() });
      compactSoon();
      // A new replica's first meta rows are only in memory yet: save them before anyone relies on them.
      await records.whenSaved();
      const opened = new BrowserDatabase(database, records, new TabChannel(name, database, onError), slot);
      // A failed take-over leaves that slot as it was, for a later tab: not a reason to fail here.
      await adoptFreeSlots(name, slot.index, maxTabs, database, slotDbName, onError).catch(onError);
      return opened;
    } catch (err) {
      records.close();
      throw err;
    }
  } catch (err) {
    slot.release();
    throw err;
  }
}
