// The test page's script (bundled by esbuild, run in Chromium): opens the persistent database
// through the browser entry, connects it, and exposes a small API the tests drive with
// page.evaluate. Everything it does is what an app would do.
import { openBrowserDatabase, SyncClient, type BrowserDatabase, type Row } from '@syncord/client/browser';
import { encodeSiteId } from '@syncord/core';

const TODOS = { columns: { id: 'text', title: 'text' }, primaryKey: ['id'] } as const;

let opened: BrowserDatabase | undefined;
let sync: SyncClient | undefined;
const states: string[] = [];

const api = {
  /** Opens the database `name` (declaring `todos`) and, when `url` is given, starts syncing. */
  async open(name: string, url?: string): Promise<{ slot: number; site: string; rows: Row[] }> {
    opened = await openBrowserDatabase(name);
    const db = opened.database;
    db.declareTable('todos', TODOS);
    // Read before any connection: what the page shows at once after a reload.
    const rows = db.list('todos', { orderBy: 'id' });
    if (url) api.connect(url);
    return { slot: opened.slot, site: encodeSiteId(db.siteId), rows };
  },
  connect(url: string): void {
    sync = new SyncClient(opened!.database, { reconnect: { baseDelayMs: 50, maxDelayMs: 200 }, pushDebounceMs: 0 });
    sync.on('status', (s) => states.push(s.state));
    // Resolves on the first handshake; while the server is down it keeps retrying.
    sync.connect(url, 'browser:todos').catch((err: unknown) => console.error('connect failed', err));
  },
  /** Writes a todo and resolves once it is saved in IndexedDB. */
  async put(id: string, title: string): Promise<void> {
    opened!.database.put('todos', { id, title });
    await opened!.whenSaved();
  },
  /** Writes `n` rows in one transaction (enough to make the storage compact its log). */
  async bulk(n: number): Promise<void> {
    opened!.database.transaction((tx) => {
      for (let i = 0; i < n; i++) tx.put('todos', { id: `bulk-${String(i).padStart(6, '0')}`, title: 'bulk' });
    });
    await opened!.whenSaved();
  },
  /** How many commits the storage's log holds beyond its base image (read through IndexedDB itself). */
  async logEntries(name: string): Promise<number> {
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const req = indexedDB.open(`syncord:${name}:${opened!.slot}`);
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
    const count = await new Promise<number>((resolve) => {
      const req = db.transaction('log').objectStore('log').count();
      req.onsuccess = () => resolve(req.result);
    });
    db.close();
    return count;
  },
  count(): number {
    return opened!.database.list('todos').length;
  },
  ids(): string[] {
    return opened!.database.list('todos', { orderBy: 'id' }).map((r) => String(r['id']));
  },
  whenSynced(): Promise<void> {
    return sync!.whenSynced({ timeoutMs: 10_000 });
  },
  states(): string[] {
    return states;
  },
};

(globalThis as unknown as { t: typeof api }).t = api;
