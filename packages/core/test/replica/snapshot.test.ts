import {
  ClockDriftError,
  compareHLC,
  encodeHLC,
  MAX_DRIFT_MS,
  WireError,
  type Replica,
  type SnapshotChunk,
} from '@syncord/core';
import { describe, expect, it } from 'vitest';
import { col, collect, createTable, cutAfter, del, dump, FACTORIES, perTestReplicas, siteOf, tx } from './helpers.js';

const A = siteOf(1);
const B = siteOf(2);
const S = siteOf(9);
const T0 = 1_700_000_000_000;

/** Two tables (one with several chunks at chunkSize 3), a tombstone-only table, migrations. */
function seed(r: Replica): void {
  r.applyChanges([
    tx(A, T0, 0, createTable('notes'), createTable('tags')),
    tx(A, T0 + 1, 0, ...[1, 2, 3, 4].flatMap((i) => [col('notes', [i], 'id', i), col('notes', [i], 'title', `n${i}`)])),
    tx(B, T0 + 2, 0, col('tags', ['a'], 'id', 'a'), col('tags', [2n ** 64n], 'id', 'big')),
    tx(B, T0 + 3, 0, del('notes', [4]), del('gone', [1]), del('gone', [2])),
  ]);
}

describe.each(FACTORIES)('snapshots on the %s store', (_name, make) => {
  const { f, clock } = perTestReplicas(make, T0 + 100_000);

  it('streams header, migrations, tables, tombstones and footer in protocol order and sizes', async () => {
    const r = f.open({ now: clock.now });
    seed(r);
    const chunks = await collect(r.snapshot({ chunkSize: 3 }));
    const header = chunks[0]!;
    expect(header).toMatchObject({ type: 'header', snapshotFormat: 1, tableCount: 2, migrationCount: 2 });
    if (header.type !== 'header') throw new Error('no header');
    expect(header.siteId).toEqual(r.siteId);
    expect(compareHLC(header.hlc, r.clockNow())).toBe(0);
    expect(header.snapshotId).toMatch(/^[0-9a-f-]{36}$/);
    const shape = chunks.map((c) =>
      c.type === 'column-versions' || c.type === 'tombstone' ? `${c.type}:${c.table}:${c.entries.length}` : c.type,
    );
    // tombstone tables come in the store's key order; each table's chunks are contiguous
    const tombstones = shape.slice(10, 12);
    expect(tombstones.sort()).toEqual(['tombstone:gone:2', 'tombstone:notes:1']);
    expect([...shape.slice(0, 10), ...tombstones, ...shape.slice(12)]).toEqual([
      'header',
      'schema-migration',
      'schema-migration',
      'table-start',
      'column-versions:notes:3',
      'column-versions:notes:3',
      'table-end',
      'table-start',
      'column-versions:tags:2',
      'table-end',
      'tombstone:gone:2',
      'tombstone:notes:1',
      'footer',
    ]);
    const starts = chunks.map((c) => c.type === 'table-start' && c.estimatedEntries).filter((n) => n !== false);
    expect(starts).toEqual([6, 2]);
    expect(chunks.filter((c) => c.type === 'table-end').map((c) => c.type === 'table-end' && c.entriesWritten)).toEqual(
      [6, 2],
    );
    // Column-version entries only: the 3 tombstones are not entries (as in the reference).
    expect(chunks.at(-1)).toMatchObject({
      type: 'footer',
      snapshotId: header.snapshotId,
      totalTables: 2,
      totalEntries: 8,
      totalMigrations: 2,
    });
  });

  it('announces in table-start exactly the entries each table streams, however its rows were written', async () => {
    const r = f.open({ now: clock.now });
    seed(r);
    // Rows written over several transactions, partly overwritten, partly deleted, revived.
    r.applyChanges([
      tx(A, T0 + 10, 0, ...[5, 6, 7].flatMap((i) => [col('notes', [i], 'id', i), col('notes', [i], 'title', 't')])),
      tx(B, T0 + 11, 0, col('notes', [5], 'title', 'u'), col('notes', [6], 'body', 'b'), del('notes', [7])),
      tx(B, T0 + 12, 0, col('notes', [5], 'id', 5), col('notes', [1], 'title', 'v'), col('tags', ['a'], 'x', 1)),
    ]);
    const chunks = await collect(r.snapshot({ chunkSize: 2 }));
    const announced = new Map<string, number>();
    const streamed = new Map<string, number>();
    for (const c of chunks) {
      if (c.type === 'table-start') announced.set(c.table, c.estimatedEntries);
      if (c.type === 'column-versions') streamed.set(c.table, (streamed.get(c.table) ?? 0) + c.entries.length);
    }
    expect(announced).toEqual(streamed);
    expect(streamed).toEqual(
      new Map([
        ['notes', 11],
        ['tags', 3],
      ]),
    );
    expect(chunks.at(-1)).toMatchObject({ type: 'footer', totalEntries: 14 });
  });

  it('reports progress against the announced totals; tombstones are not entries', async () => {
    const src = f.open({ now: clock.now });
    seed(src);
    const progress: [number, number][] = [];
    await f.open({ now: clock.now }).applySnapshot(src.snapshot({ chunkSize: 2 }), {
      onProgress: (p) => progress.push([p.entriesProcessed, p.totalEntries]),
    });
    expect(progress.every(([done, total]) => done <= total)).toBe(true);
    expect(progress.at(-1)).toEqual([8, 8]);
    // After the first table-start only its own 6 entries are known, then the tags' 2 join them.
    expect(progress.map(([, total]) => total)).toContain(6);
  });

  it("reports rows against the header's rowCount from the first report; a row split over chunks counts once", async () => {
    const src = f.open({ now: clock.now });
    seed(src);
    const chunks = await collect(src.snapshot({ chunkSize: 3 }));
    // notes 1–3 (4 is deleted) and the two tags; the tombstone-only table has no rows.
    expect(chunks[0]).toMatchObject({ type: 'header', rowCount: 5 });
    const rows: [number, number | undefined][] = [];
    await f.open({ now: clock.now }).applySnapshot(chunks, {
      onProgress: (p) => rows.push([p.rowsReceived, p.rowsTotal]),
    });
    expect(rows[0]).toEqual([0, 5]);
    expect(rows.every(([, total]) => total === 5)).toBe(true);
    // Chunks of 3 cells cut row 2 of notes in half: it still counts as one row.
    expect(rows.map(([received]) => received)).toEqual([...rows.map(([r]) => r)].sort((a, b) => a - b));
    expect(rows.at(-1)).toEqual([5, 5]);
  });

  it('reports no row total for a stream whose header has none (the reference server)', async () => {
    const src = f.open({ now: clock.now });
    seed(src);
    const chunks = (await collect(src.snapshot())).map((c) => {
      if (c.type !== 'header') return c;
      const { rowCount: _omitted, ...header } = c;
      return header;
    });
    const last: { rowsReceived?: number; rowsTotal?: number } = {};
    await f.open({ now: clock.now }).applySnapshot(chunks, { onProgress: (p) => Object.assign(last, p) });
    expect(last.rowsReceived).toBe(5);
    expect(last).not.toHaveProperty('rowsTotal');
  });

  it('bootstraps a replica that equals the source', async () => {
    const src = f.open({ now: clock.now });
    seed(src);
    const dst = f.open({ now: clock.now });
    dst.applyChanges([tx(B, T0 + 9, 0, col('stale', [1], 'c', 'cleared by the snapshot'))]);
    await dst.applySnapshot(src.snapshot({ chunkSize: 2 }));
    expect(await dump(dst)).toEqual(await dump(src));
    expect(dst.pendingCheckpoint()).toBeUndefined();
    expect(compareHLC(dst.clockNow(), src.clockNow())).toBeGreaterThan(0);
    expect(dst.hasTable('main', 'stale')).toBe(false);
  });

  it('serves one consistent read: writes landing mid-stream do not tear it', async () => {
    const r = f.open({ now: clock.now });
    seed(r);
    const expected = await dump(r);
    const copy = f.open({ now: clock.now });
    const stream = r.snapshot({ chunkSize: 1 });
    const chunks: SnapshotChunk[] = [];
    for await (const c of stream) {
      chunks.push(c);
      if (chunks.length === 4) {
        r.applyChanges([tx(B, T0 + 50, 0, col('notes', [9], 'id', 9), del('tags', ['a']), col('zzz', [1], 'c', 1))]);
      }
    }
    await copy.applySnapshot(chunks);
    expect(await dump(copy)).toEqual(expected);
  });

  it('resumes an interrupted bootstrap from its checkpoint and ends equal to the source', async () => {
    const src = f.open({ now: clock.now });
    seed(src);
    const dst = f.open({ now: clock.now });
    const saved: number[] = [];
    // header, 2 migrations, notes (start, 3 chunks of 2, end), then cut inside tags
    await expect(
      dst.applySnapshot(cutAfter(src.snapshot({ chunkSize: 2 }), 9), {
        onCheckpoint: (c) => saved.push(c.entriesProcessed),
      }),
    ).rejects.toThrow('connection lost');
    const cp = dst.pendingCheckpoint();
    expect(cp).toMatchObject({ completedTables: ['main.notes'], entriesProcessed: 6 });
    expect(cp!.siteId).toEqual(dst.siteId);
    expect(saved.at(-1)).toBe(6);
    src.applyChanges([tx(A, T0 + 60, 0, col('tags', ['z'], 'id', 'z'))]);
    const resumed = await collect(src.snapshot({ resume: cp! }));
    // Only the tables still to stream count: tags' three rows, not the notes already received.
    expect(resumed[0]).toMatchObject({ type: 'header', snapshotId: cp!.snapshotId, rowCount: 3 });
    expect(resumed.filter((c) => c.type === 'table-start').map((c) => c.type === 'table-start' && c.table)).toEqual([
      'tags',
    ]);
    expect(resumed.at(-1)).toMatchObject({ type: 'footer', totalEntries: 6 + 3 });
    await dst.applySnapshot(resumed);
    expect(dst.pendingCheckpoint()).toBeUndefined();
    expect(await dump(dst)).toEqual(await dump(src));
  });

  it('a fresh snapshot after an interrupted one clears the partial state', async () => {
    const src = f.open({ now: clock.now });
    seed(src);
    const dst = f.open({ now: clock.now });
    await expect(dst.applySnapshot(cutAfter(src.snapshot({ chunkSize: 2 }), 9))).rejects.toThrow();
    src.applyChanges([tx(A, T0 + 70, 0, del('notes', [1]))]);
    await dst.applySnapshot(src.snapshot());
    expect(await dump(dst)).toEqual(await dump(src));
  });

  it('rejects an unknown snapshot format and a drifting header before touching state', async () => {
    const src = f.open({ now: clock.now });
    seed(src);
    const dst = f.open({ now: clock.now });
    dst.applyChanges([tx(B, T0, 0, col('t', [1], 'c', 'keep'))]);
    const before = await dump(dst);
    const chunks = await collect(src.snapshot());
    const header = chunks[0] as Extract<SnapshotChunk, { type: 'header' }>;
    await expect(dst.applySnapshot([{ ...header, snapshotFormat: 2 }, ...chunks.slice(1)])).rejects.toThrow(WireError);
    const future = { ...header.hlc, wallTime: BigInt(T0 + 100_000 + MAX_DRIFT_MS + 1) };
    await expect(dst.applySnapshot([{ ...header, hlc: future }, ...chunks.slice(1)])).rejects.toThrow(ClockDriftError);
    await expect(dst.applySnapshot(chunks.slice(1))).rejects.toThrow(WireError);
    expect(await dump(dst)).toEqual(before);
    expect(dst.pendingCheckpoint()).toBeUndefined();
  });

  it('makes the requester catch-up from the header gap-free', async () => {
    const r = f.open({ now: clock.now });
    r.applyChanges([tx(A, T0 + 50, 0, col('t', [1], 'c', 'x'))]);
    const client = f.open({ now: clock.now });
    const chunks = await collect(r.snapshot({ requester: S }));
    await client.applySnapshot(chunks);
    const header = chunks[0] as Extract<SnapshotChunk, { type: 'header' }>;
    r.applyChanges([tx(B, T0 + 10, 0, col('t', [2], 'c', 'late'))]);
    const catchUp = r.getChangesSince(S, header.hlc);
    expect(catchUp.map((cs) => encodeHLC(cs.hlc))).toEqual([encodeHLC(tx(B, T0 + 10, 0, col('t', [2], 'c', '')).hlc)]);
  });
});
