import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { encodeSiteId, STORE_FORMAT_VERSION } from '@syncord/core';
import { openSqliteReplica } from '@syncord/core/sqlite';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { col, del, dump, manualClock, rowOf, siteOf, tx } from '../replica/helpers.js';

const A = siteOf(1);
const B = siteOf(2);
const S = siteOf(9);
const T0 = 1_700_000_000_000;

describe('the SQLite replica store', () => {
  let dir: string;
  let file: string;
  const clock = manualClock(T0);
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'syncord-sqlite-'));
    file = join(dir, 'db.sqlite');
    clock.set(T0);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps site id, clock, data and the arrival sequence across close and reopen', async () => {
    const r = openSqliteReplica(file, { now: clock.now });
    const site = encodeSiteId(r.siteId);
    r.applyChanges([tx(A, T0 + 20, 3, col('t', [1], 'c', 'x'))]);
    const w = r.getChangesSince(S).at(-1)!.hlc;
    r.setLocal('k', 'v');
    const before = await dump(r);
    const clockBefore = r.clockNow();
    r.close();
    expect(() => r.clockNow()).not.toThrow(); // the in-memory clock stays readable
    expect(() => r.applyChanges([])).toThrow(/closed/);

    const again = openSqliteReplica(file, { now: clock.now });
    expect(encodeSiteId(again.siteId)).toBe(site);
    expect(again.clockNow()).toEqual(clockBefore);
    expect(await dump(again)).toEqual(before);
    expect(again.getLocal('k')).toBe('v');
    // A late fact after reopen is still recognised as late for the watermark handed out before.
    again.applyChanges([tx(B, T0 + 1, 0, col('t', [2], 'c', 'late'))]);
    expect(again.getChangesSince(S, w).flatMap((cs) => cs.changes.map((c) => c.type === 'column' && c.value))).toEqual([
      'late',
    ]);
    again.close();
  });

  it('copies itself while open, unsynced commits included, into a file that opens as the same database', async () => {
    const r = openSqliteReplica(file, { now: clock.now });
    r.applyChanges([tx(A, T0 + 20, 3, col('t', [1], 'c', 'x'))]);
    r.applyGroup([{ changeSets: [tx(B, T0 + 30, 0, col('t', [2], 'c', 'y'))] }], { durable: false });
    r.setLocal('position', '7', { durable: false });
    const copy = join(dir, 'copy.sqlite');
    const copied = await dump(r);
    await r.backupTo(copy);
    r.applyChanges([tx(A, T0 + 40, 4, col('t', [3], 'c', 'after'))]);
    const again = openSqliteReplica(copy, { now: clock.now });
    expect(encodeSiteId(again.siteId)).toBe(encodeSiteId(r.siteId));
    expect(again.getLocal('position')).toBe('7');
    expect(again.lastSeq).toBe(2);
    expect(await dump(again)).toEqual(copied);
    again.close();
    r.close();
  });

  it('judges against tombstones written before a reopen and in the same transaction, table by table', () => {
    const r = openSqliteReplica(file, { now: clock.now });
    r.applyChanges([tx(A, T0 + 10, 0, del('t', [1]))]);
    r.close();
    // Reopened: the merge reads tombstones only for tables known to hold some, so that set must
    // come from the file; another table written meanwhile must not hide it.
    const again = openSqliteReplica(file, { now: clock.now });
    again.applyChanges([tx(B, T0 + 1, 0, col('u', [1], 'c', 'other table'))]);
    const older = again.applyChanges([tx(B, T0 + 5, 0, col('t', [1], 'c', 'older than the delete'))]);
    expect(older).toMatchObject({ applied: 0, skipped: 1 });
    // A table's first tombstone, then an older cell for it, in one group commit.
    const [first, second] = again.applyGroup([
      { changeSets: [tx(A, T0 + 20, 0, del('u', [2]))] },
      { changeSets: [tx(B, T0 + 15, 0, col('u', [2], 'c', 'older'))] },
    ]);
    expect(first).toMatchObject({ applied: 1 });
    expect(second).toMatchObject({ applied: 0, skipped: 1 });
    expect(rowOf(again, 't', [1])).toBeUndefined();
    expect(rowOf(again, 'u', [2])).toBeUndefined();
    expect(rowOf(again, 'u', [1])).toEqual({ c: 'other table' });
    again.close();
  });

  it('rolls a batch back completely when the store fails mid-batch', async () => {
    const r = openSqliteReplica(file, { now: clock.now });
    r.applyChanges([tx(A, T0, 0, col('t', [1], 'c', 'before'))]);
    const before = await dump(r);
    const clockBefore = r.clockNow();
    // Fault injection through a second connection: the last row written by the batch fails.
    const raw = new Database(file);
    raw.exec(
      `CREATE TRIGGER boom BEFORE INSERT ON cells WHEN NEW.meta LIKE '%"boom"%' BEGIN SELECT RAISE(ABORT, 'injected failure'); END`,
    );
    raw.close();
    const batch = [
      tx(B, T0 + 1, 0, col('t', [1], 'c', 'overwritten?'), del('t', [5])),
      tx(B, T0 + 2, 0, col('newtable', [1], 'x', 1), col('newtable', [1], 'boom', 2)),
    ];
    expect(() => r.applyChanges(batch)).toThrow(/injected failure/);
    expect(await dump(r)).toEqual(before);
    expect(r.clockNow()).toEqual(clockBefore);
    expect(r.hasTable('main', 'newtable')).toBe(false);
    // The store is still consistent and usable, including a table whose id was rolled back.
    expect(r.applyChanges([tx(B, T0 + 3, 0, col('newtable', [1], 'x', 1))])).toMatchObject({ applied: 1 });
    expect(rowOf(r, 'newtable', [1])).toEqual({ x: 1 });
    r.close();
  });

  it('refuses a store written by a newer layout, with a clear error', () => {
    openSqliteReplica(file).close();
    const raw = new Database(file);
    raw.prepare("UPDATE meta SET value = ? WHERE key = 'formatVersion'").run(String(STORE_FORMAT_VERSION + 1));
    raw.close();
    expect(() => openSqliteReplica(file)).toThrow(/format 2 is not supported/);
  });

  it('refuses an in-memory path', () => {
    expect(() => openSqliteReplica(':memory:')).toThrow(/file path/);
  });

  it('runs WAL with synchronous=FULL', () => {
    openSqliteReplica(file).close();
    const r = openSqliteReplica(file);
    const raw = new Database(file, { readonly: true });
    expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
    raw.close();
    r.close();
  });

  it('closes the snapshot read transaction when the consumer stops early or the stream ends', async () => {
    const r = openSqliteReplica(file, { now: clock.now });
    r.applyChanges([tx(A, T0, 0, ...Array.from({ length: 30 }, (_, i) => col('t', [i], 'c', i)))]);
    const checkpointBlocked = (): boolean => {
      const raw = new Database(file, { timeout: 0 });
      const [res] = raw.pragma('wal_checkpoint(TRUNCATE)') as { busy: number }[];
      raw.close();
      return res!.busy !== 0;
    };
    const it1 = r.snapshot({ chunkSize: 5 });
    await it1.next();
    r.applyChanges([tx(B, T0 + 1, 0, col('t', [99], 'c', 1))]);
    expect(checkpointBlocked()).toBe(true); // an open reader pins the WAL
    await it1.return?.(undefined);
    expect(checkpointBlocked()).toBe(false);
    for await (const _ of r.snapshot()) void _;
    expect(checkpointBlocked()).toBe(false);
    r.close();
  });
});
