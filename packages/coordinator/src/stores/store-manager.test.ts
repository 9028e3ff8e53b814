import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { newSiteId, openMemoryReplica, type Replica } from '@syncord/core';
import { openSqliteReplica } from '@syncord/core/sqlite';
import { afterEach, describe, expect, it } from 'vitest';
import { InvalidDatabaseIdError } from './database-id.js';
import { StoragePathError } from './storage-path.js';
import { StoreLimitError, StoreManager, StoreManagerClosedError, type StoreManagerOptions } from './store-manager.js';

/** A promise and the function that settles it: lets a test hold an open or a close mid-way. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

const ticks = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A usable replica answers; a closed one throws. */
function usable(replica: Replica): boolean {
  try {
    replica.getChangesSince(newSiteId());
    return true;
  } catch {
    return false;
  }
}

const managers: StoreManager[] = [];
const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(managers.splice(0).map((m) => m.closeAll()));
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'syncord-stores-'));
  dirs.push(dir);
  return dir;
}

interface Harness {
  manager: StoreManager;
  opened: string[];
  closed: string[];
}

function harness(options: Partial<StoreManagerOptions> = {}): Harness {
  const opened: string[] = [];
  const closed: string[] = [];
  const manager = new StoreManager({
    dataDir: tempDir(),
    maxOpenStores: 10,
    idleCloseMs: 60_000,
    cleanupIntervalMs: 0,
    maxDatabaseIdLength: 64,
    openReplica: (_file, id) => {
      opened.push(id);
      const replica = openMemoryReplica();
      const close = replica.close.bind(replica);
      replica.close = () => {
        closed.push(id);
        close();
      };
      return replica;
    },
    ...options,
  });
  managers.push(manager);
  return { manager, opened, closed };
}

describe('StoreManager', () => {
  it('opens a database once for concurrent acquires and counts each reference', async () => {
    const slow = gate();
    let opens = 0;
    const { manager } = harness({
      openReplica: async () => {
        opens++;
        await slow.promise;
        return openMemoryReplica();
      },
    });
    const a = manager.acquire('db');
    const b = manager.acquire('db');
    slow.open();
    const [ha, hb] = await Promise.all([a, b]);
    expect(opens).toBe(1);
    expect(ha.replica).toBe(hb.replica);
    expect(manager.refCount('db')).toBe(2);
    ha.release();
    ha.release(); // idempotent
    expect(manager.refCount('db')).toBe(1);
    hb.release();
    expect(manager.refCount('db')).toBe(0);
    expect(manager.isOpen('db')).toBe(true);
  });

  it('never hands out a store that is closing: an acquire during close waits and reopens', async () => {
    const closing = gate();
    const { manager, opened } = harness({ idleCloseMs: 0, beforeClose: () => closing.promise });
    const first = await manager.acquire('db');
    first.release();
    const swept = manager.sweep(); // starts closing; held in beforeClose
    const during = manager.acquire('db');
    let settled = false;
    void during.then(() => (settled = true));
    await ticks();
    expect(settled).toBe(false);
    closing.open();
    await swept;
    const second = await during;
    expect(opened).toEqual(['db', 'db']);
    expect(second.replica).not.toBe(first.replica);
    expect(usable(first.replica)).toBe(false);
    expect(usable(second.replica)).toBe(true);
    expect(manager.refCount('db')).toBe(1);
    second.release();
  });

  it('LRU eviction racing an acquire of the evicted store: the acquire gets a fresh, open store', async () => {
    const closing = gate();
    const { manager, closed } = harness({ maxOpenStores: 2, beforeClose: () => closing.promise });
    const a = await manager.acquire('a');
    a.release();
    const b = await manager.acquire('b');
    const c = manager.acquire('c'); // pushes 'a' out; its close waits in beforeClose, and so does 'c'
    await ticks();
    expect(manager.isOpen('a')).toBe(false);
    const again = manager.acquire('a');
    b.release(); // room for 'a' once 'b' goes too
    closing.open();
    const [a2, c2] = await Promise.all([again, c]);
    expect(closed).toEqual(['a', 'b']);
    expect(usable(a2.replica)).toBe(true);
    expect(a2.replica).not.toBe(a.replica);
    a2.release();
    c2.release();
  });

  it('closes the least recently used unreferenced store to stay within maxOpenStores', async () => {
    const { manager, closed } = harness({ maxOpenStores: 2 });
    for (const id of ['a', 'b']) (await manager.acquire(id)).release();
    (await manager.acquire('a')).release(); // 'a' is now more recent than 'b'
    const c = await manager.acquire('c');
    expect(closed).toEqual(['b']);
    expect(manager.openDatabaseIds().sort()).toEqual(['a', 'c']);
    c.release();
  });

  it('refuses to open one more database when every one within maxOpenStores is in use', async () => {
    const slow = gate();
    const { manager, opened } = harness({
      maxOpenStores: 2,
      openReplica: async (_f, id) => {
        opened.push(id);
        if (id === 'opening') await slow.promise;
        return openMemoryReplica();
      },
    });
    const a = await manager.acquire('a');
    const opening = manager.acquire('opening'); // an open in progress counts too
    await expect(manager.acquire('b')).rejects.toBeInstanceOf(StoreLimitError);
    await expect(manager.acquire('b')).rejects.toThrow(/maxOpenStores 2/);
    const a2 = await manager.acquire('a'); // an open database takes more references
    slow.open();
    const o = await opening;
    expect(manager.openCount).toBe(2);
    expect(opened).toEqual(['a', 'opening']);
    a.release();
    a2.release(); // now 'a' can go
    const b = await manager.acquire('b');
    expect(manager.openDatabaseIds().sort()).toEqual(['b', 'opening']);
    b.release();
    o.release();
  });

  it('counts a closing store until it is closed: an open waits for it', async () => {
    const closing = gate();
    const { manager, closed } = harness({ maxOpenStores: 1, idleCloseMs: 0, beforeClose: () => closing.promise });
    (await manager.acquire('a')).release();
    const swept = manager.sweep();
    const b = manager.acquire('b');
    let got = false;
    void b.then(() => (got = true));
    await ticks();
    expect(got).toBe(false);
    closing.open();
    await swept;
    (await b).release();
    expect(closed).toEqual(['a']);
  });

  it('acquireIfOpen hands out an open store only, never opening or reviving a closing one', async () => {
    const closing = gate();
    const { manager, opened } = harness({ idleCloseMs: 0, beforeClose: () => closing.promise });
    expect(manager.acquireIfOpen('db')).toBeUndefined();
    const first = await manager.acquire('db');
    const extra = manager.acquireIfOpen('db');
    expect(extra?.replica).toBe(first.replica);
    expect(manager.refCount('db')).toBe(2);
    extra!.release();
    first.release();
    const swept = manager.sweep();
    expect(manager.acquireIfOpen('db')).toBeUndefined();
    closing.open();
    await swept;
    expect(manager.acquireIfOpen('db')).toBeUndefined();
    expect(opened).toEqual(['db']);
  });

  it('closes a store only after idleCloseMs without references', async () => {
    let now = 1_000;
    const { manager, closed } = harness({ idleCloseMs: 500, now: () => now });
    const held = await manager.acquire('held');
    (await manager.acquire('idle')).release();
    now += 499;
    expect(await manager.sweep()).toBe(0);
    now += 1;
    expect(await manager.sweep()).toBe(1);
    expect(closed).toEqual(['idle']);
    now += 10_000;
    expect(await manager.sweep()).toBe(0);
    expect(manager.isOpen('held')).toBe(true);
    held.release();
  });

  it('forgets a failed open, so the next acquire tries again', async () => {
    let fail = true;
    const { manager } = harness({
      openReplica: () => {
        if (fail) throw new Error('disk on fire');
        return openMemoryReplica();
      },
    });
    await expect(manager.acquire('db')).rejects.toThrow('disk on fire');
    expect(manager.isOpen('db')).toBe(false);
    fail = false;
    const handle = await manager.acquire('db');
    expect(usable(handle.replica)).toBe(true);
    handle.release();
  });

  it('validates ids and refuses two ids a hook maps to one file', async () => {
    const { manager } = harness();
    await expect(manager.acquire('a b')).rejects.toBeInstanceOf(InvalidDatabaseIdError);
    await expect(manager.acquire('x'.repeat(65))).rejects.toThrow(/maxDatabaseIdLength/);
    const shared = harness({ hooks: { resolveStoragePath: () => 'same' } }).manager;
    const one = await shared.acquire('one');
    await expect(shared.acquire('two')).rejects.toBeInstanceOf(StoragePathError);
    one.release();
  });

  it('closeAll waits for opens in flight, closes referenced stores and refuses later acquires', async () => {
    const slow = gate();
    const { manager, closed } = harness({
      openReplica: async (_f, id) => {
        if (id === 'slow') await slow.promise;
        const replica = openMemoryReplica();
        const close = replica.close.bind(replica);
        replica.close = () => {
          closed.push(id);
          close();
        };
        return replica;
      },
    });
    const held = await manager.acquire('held');
    const opening = manager.acquire('slow');
    const all = manager.closeAll();
    slow.open();
    await all;
    await expect(opening).rejects.toBeInstanceOf(StoreManagerClosedError);
    expect(closed.sort()).toEqual(['held', 'slow']);
    expect(manager.openCount).toBe(0);
    held.release(); // a stale handle is harmless
    await expect(manager.acquire('held')).rejects.toBeInstanceOf(StoreManagerClosedError);
    expect(await manager.sweep()).toBe(0);
  });

  it('a cleanup tick racing shutdown closes each store once, and closeAll waits for it', async () => {
    const closing = gate();
    let began = 0;
    const { manager, closed } = harness({
      idleCloseMs: 0,
      cleanupIntervalMs: 1,
      beforeClose: () => {
        began++;
        return closing.promise;
      },
    });
    (await manager.acquire('db')).release();
    await expect.poll(() => began).toBe(1); // the timer's sweep is closing 'db'
    let done = false;
    const all = manager.closeAll().then(() => (done = true));
    await ticks();
    expect(done).toBe(false);
    closing.open();
    await all;
    expect(closed).toEqual(['db']);
    expect(began).toBe(1);
    expect(manager.openCount).toBe(0);
  });

  it('keeps the server site id of a SQLite database across close, reopen and a new manager', async () => {
    const dataDir = tempDir();
    const make = () => {
      const m = new StoreManager({
        dataDir,
        maxOpenStores: 10,
        idleCloseMs: 0,
        cleanupIntervalMs: 0,
        maxDatabaseIdLength: 64,
        openReplica: (file) => openSqliteReplica(file),
      });
      managers.push(m);
      return m;
    };
    const first = make();
    const h1 = await first.acquire('acme:notes');
    const siteId = h1.replica.siteId;
    h1.release();
    await first.sweep();
    expect(first.isOpen('acme:notes')).toBe(false);
    const h2 = await first.acquire('acme:notes');
    expect(h2.replica.siteId).toEqual(siteId);
    h2.release();
    await first.closeAll();
    const h3 = await make().acquire('acme:notes');
    expect(h3.replica.siteId).toEqual(siteId);
    h3.release();
  });
});
