// The IndexedDB copy of one memory replica: one object store of records (memory-records.ts of
// @syncord/core), keyed by record id. Each committed store transaction becomes one IndexedDB
// transaction, created at once inside the commit; readwrite transactions over the same object
// store run in the order they were created, so what IndexedDB holds is always the state after
// some commit, never a mix. A failed save stops saving for good: later commits would otherwise be
// stored over a hole.
import type { MemoryRecord, RecordWrite } from '@syncord/core';

const STORE = 'records';

export class IndexedDbRecords {
  private last: Promise<void> = Promise.resolve();
  private failure: Error | undefined;
  private unsaved = 0;

  private constructor(
    private readonly db: IDBDatabase,
    private readonly onError: (err: Error) => void,
  ) {
    this.db.onversionchange = () => this.fail(new Error(`IndexedDB database ${db.name} was deleted or upgraded`));
  }

  /** Opens (or creates) the database and reads every record in it. */
  static async open(
    name: string,
    onError: (err: Error) => void,
  ): Promise<{ records: IndexedDbRecords; loaded: MemoryRecord[] }> {
    const db = await request(
      (() => {
        const open = indexedDB.open(name, 1);
        open.onupgradeneeded = () => open.result.createObjectStore(STORE);
        return open;
      })(),
      `open IndexedDB database ${name}`,
    );
    try {
      const loaded = await request(
        db.transaction(STORE, 'readonly').objectStore(STORE).getAll() as IDBRequest<MemoryRecord[]>,
        `read IndexedDB database ${name}`,
      );
      return { records: new IndexedDbRecords(db, onError), loaded };
    } catch (err) {
      db.close();
      throw err;
    }
  }

  /** Commits not yet saved. */
  get pending(): number {
    return this.unsaved;
  }

  /** Saves one commit's records; `durable` asks the browser to flush to disk before completing. */
  write(writes: readonly RecordWrite[], durable: boolean): void {
    if (this.failure) return;
    let tx: IDBTransaction;
    try {
      tx = this.db.transaction(STORE, 'readwrite', { durability: durable ? 'strict' : 'relaxed' });
      const store = tx.objectStore(STORE);
      for (const w of writes) {
        if (w.record) store.put(w.record, w.id);
        else store.delete(w.id);
      }
    } catch (err) {
      this.fail(asError(err, 'save to IndexedDB'));
      return;
    }
    this.unsaved++;
    const done = new Promise<void>((resolve, reject) => {
      tx.oncomplete = () => resolve();
      tx.onerror = tx.onabort = () => reject(asError(tx.error, 'save to IndexedDB'));
    }).then(
      () => {
        this.unsaved--;
      },
      (err: Error) => {
        this.unsaved--;
        this.fail(err);
      },
    );
    this.last = done;
  }

  /** Resolves once every write so far is saved; rejects once saving failed. */
  async whenSaved(): Promise<void> {
    await this.last;
    if (this.failure) throw this.failure;
  }

  close(): void {
    this.db.close();
  }

  private fail(err: Error): void {
    if (this.failure) return;
    this.failure = err;
    this.onError(err);
  }
}

function request<T>(req: IDBRequest<T>, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(asError(req.error, what));
  });
}

function asError(err: unknown, what: string): Error {
  const detail = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return new Error(`Could not ${what} (${detail})`);
}
