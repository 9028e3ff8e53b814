// The page of bench/browser-storage.mjs: fills, reopens and writes a persistent browser database
// and reports wall-clock milliseconds measured inside the page.
import { openBrowserDatabase } from '@syncord/client/browser';

const ITEMS = { columns: { id: 'integer', title: 'text', done: 'integer' }, primaryKey: ['id'] } as const;
const ROWS_PER_TX = 1000;

const bench = {
  /** Writes `n` rows in transactions of 1,000 (as snapshot chunks arrive) and waits until saved. */
  async fill(name: string, n: number): Promise<number> {
    const b = await openBrowserDatabase(name);
    const items = b.database.declareTable('items', ITEMS);
    const t0 = performance.now();
    for (let i = 0; i < n; i += ROWS_PER_TX) {
      b.database.transaction((tx) => {
        for (let id = i; id < Math.min(n, i + ROWS_PER_TX); id++)
          tx.put(items, { id, title: `item number ${id} with some text`, done: id % 2 });
      });
    }
    await b.whenSaved();
    const ms = performance.now() - t0;
    await b.close();
    return ms;
  },
  /** Opens the database (loads it from IndexedDB) and reads every row once. */
  async open(name: string): Promise<{ openMs: number; firstListMs: number; rows: number }> {
    const t0 = performance.now();
    const b = await openBrowserDatabase(name);
    const openMs = performance.now() - t0;
    const rows = b.database.list('items').length;
    const firstListMs = performance.now() - t0 - openMs;
    await b.close();
    return { openMs, firstListMs, rows };
  },
  /** `count` one-row writes, each awaited until saved; returns each latency in ms. */
  async writes(name: string, count: number): Promise<number[]> {
    const b = await openBrowserDatabase(name);
    const items = b.database.declareTable('items', ITEMS);
    await b.whenSaved();
    const out: number[] = [];
    for (let i = 0; i < count; i++) {
      const t0 = performance.now();
      items.put({ id: 1_000_000 + i, title: `write ${i}`, done: 0 });
      await b.whenSaved();
      out.push(performance.now() - t0);
    }
    await b.close();
    return out;
  },
};

(globalThis as unknown as { bench: typeof bench }).bench = bench;
