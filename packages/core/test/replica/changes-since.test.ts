import { compareHLC, encodeHLC, makeHLC, type ChangeSet } from '@syncord/core';
import { describe, expect, it } from 'vitest';
import { col, createTable, del, FACTORIES, perTestReplicas, siteOf, tx } from './helpers.js';

const A = siteOf(1);
const B = siteOf(2);
const C = siteOf(3);
const S = siteOf(9); // the requesting client
const T0 = 1_700_000_000_000;

/** Wire-like text of change sets: enough to compare exactly. */
const ids = (sets: ChangeSet[]): string[] => sets.map((cs) => cs.transactionId);
const values = (sets: ChangeSet[]): unknown[] =>
  sets.flatMap((cs) => cs.changes.map((c) => (c.type === 'column' ? c.value : `del ${String(c.pk[0])}`)));

describe.each(FACTORIES)('getChangesSince on the %s store', (_name, make) => {
  const { f, clock } = perTestReplicas(make, T0 + 100_000);

  it('groups facts per transaction in HLC order, changes by opSeq, hlc = max fact, DDL included', () => {
    const r = f.open({ now: clock.now });
    const t2 = tx(B, T0 + 2, 0, createTable('notes'), col('notes', [1], 'id', 1), col('notes', [1], 'title', 'x'));
    const t1 = tx(A, T0 + 1, 0, col('notes', [2], 'id', 2), del('other', [7]));
    r.applyChanges([t2, t1]);
    const out = r.getChangesSince(S);
    expect(ids(out)).toEqual([t1.transactionId, t2.transactionId]);
    expect(out[1]!.schemaMigrations.map((m) => m.table)).toEqual(['notes']);
    expect(out[1]!.changes.map((c) => c.hlc.opSeq)).toEqual([1, 2]);
    expect(encodeHLC(out[1]!.hlc)).toBe(encodeHLC(t2.hlc));
    expect(out[0]!.changes[1]).toMatchObject({ type: 'delete', table: 'other', pk: [7] });
  });

  it('serves only the latest version of each cell', () => {
    const r = f.open({ now: clock.now });
    r.applyChanges([tx(A, T0 + 1, 0, col('t', [1], 'c', 'old'))]);
    r.applyChanges([tx(B, T0 + 2, 0, col('t', [1], 'c', 'new'))]);
    expect(values(r.getChangesSince(S))).toEqual(['new']);
  });

  it('filters echoes: facts and migrations from the requester are withheld', () => {
    const r = f.open({ now: clock.now });
    r.applyChanges([
      tx(S, T0 + 1, 0, createTable('mine'), col('t', [1], 'c', 'mine')),
      tx(A, T0 + 2, 0, col('t', [2], 'c', 'theirs')),
    ]);
    const out = r.getChangesSince(S);
    expect(values(out)).toEqual(['theirs']);
    expect(out.flatMap((cs) => cs.schemaMigrations)).toEqual([]);
  });

  it('records nothing for a look with record: false, so its max is no watermark the requester holds', () => {
    const r = f.open({ now: clock.now });
    const t1 = tx(A, T0 + 1, 0, col('t', [1], 'c', 1));
    const t2 = tx(A, T0 + 2, 0, col('t', [2], 'c', 2));
    r.applyChanges([t1, t2]);
    expect(ids(r.getChangesSince(S, undefined, { record: false }))).toEqual(ids([t1, t2]));
    // Not handed out: asking from it serves what lies below it again (nothing vouches for it).
    expect(ids(r.getChangesSince(S, t2.hlc))).toEqual(ids([t1]));
    // Handed out by a real reply: from there on nothing is due.
    expect(ids(r.getChangesSince(S))).toEqual(ids([t1, t2]));
    expect(r.getChangesSince(S, t2.hlc)).toEqual([]);
  });

  it('serves strictly above a watermark it handed out', () => {
    const r = f.open({ now: clock.now });
    const t1 = tx(A, T0 + 1, 0, col('t', [1], 'c', 1));
    const t2 = tx(A, T0 + 2, 0, col('t', [2], 'c', 2));
    r.applyChanges([t1]);
    expect(encodeHLC(r.getChangesSince(S).at(-1)!.hlc)).toBe(encodeHLC(t1.hlc));
    r.applyChanges([t2]);
    expect(values(r.getChangesSince(S, t1.hlc))).toEqual([2]);
    expect(r.getChangesSince(S, t2.hlc)).toEqual([]);
  });

  it('bounds a batch by whole transactions and pages through everything exactly once', () => {
    const r = f.open({ now: clock.now });
    const sets = Array.from({ length: 10 }, (_, i) =>
      tx(i % 2 ? A : B, T0 + i, 0, col('t', [i], 'a', i), col('t', [i], 'b', i), col('t', [i], 'c', i)),
    );
    r.applyChanges(sets);
    const first = r.getChangesSince(S, undefined, { batchSize: 4 });
    expect(first.length).toBe(2); // 3 changes, then the set crossing the bound (6) is included whole
    const seen: string[] = [];
    let since = undefined as ChangeSet['hlc'] | undefined;
    for (let page = 0; page < 20; page++) {
      const out = r.getChangesSince(S, since, { batchSize: 4 });
      if (out.length === 0) break;
      seen.push(...ids(out));
      since = out.at(-1)!.hlc;
    }
    expect(seen).toEqual(sets.map((cs) => cs.transactionId));
    const big = r.getChangesSince(S, undefined, { batchSize: 1 });
    expect(big[0]!.changes.length).toBe(3); // never split
    expect(r.getChangesSince(S, undefined, { batchSize: Infinity }).length).toBe(10);
  });

  it('catches up a fact that arrives late with an HLC below the watermark (fails on watermark-only)', () => {
    const r = f.open({ now: clock.now });
    r.applyChanges([tx(A, T0 + 50, 0, col('t', [1], 'c', 'early'))]);
    const first = r.getChangesSince(S);
    const watermark = first.at(-1)!.hlc;
    // Site B's clock is behind: its write carries an HLC below S's watermark and lands afterwards.
    r.applyChanges([tx(B, T0 + 10, 0, col('t', [2], 'c', 'late')), tx(C, T0 + 60, 0, col('t', [3], 'c', 'above'))]);
    const next = r.getChangesSince(S, watermark);
    expect(values(next)).toEqual(['late', 'above']);
    // The reply may have been lost: from the old watermark the late fact is served again...
    expect(values(r.getChangesSince(S, watermark))).toEqual(['late', 'above']);
    // ...but a replica presenting the reply's max has it, and gets nothing twice.
    expect(r.getChangesSince(S, next.at(-1)!.hlc)).toEqual([]);
  });

  it('pages the late portion by the batch bound too, in HLC order (item 6)', () => {
    const r = f.open({ now: clock.now });
    r.applyChanges([tx(A, T0 + 50, 0, col('t', [0], 'c', 'mark'))]);
    const watermark = r.getChangesSince(S).at(-1)!.hlc;
    r.applyChanges(Array.from({ length: 5 }, (_, i) => tx(B, T0 + i, 0, col('t', [i + 1], 'c', `late${i}`))));
    r.applyChanges([tx(C, T0 + 60, 0, col('t', [9], 'c', 'up1')), tx(C, T0 + 61, 0, col('t', [10], 'c', 'up2'))]);
    const first = r.getChangesSince(S, watermark, { batchSize: 2 });
    expect(values(first)).toEqual(['late0', 'late1']);
    // Asking again from a late page's max re-serves what lies between it and the old watermark
    // (the client gave that watermark up), and loses nothing.
    const seen: unknown[] = [...values(first)];
    let since = first.at(-1)!.hlc;
    for (let i = 0; i < 20; i++) {
      const page = r.getChangesSince(S, since, { batchSize: 2 });
      if (page.length === 0) break;
      seen.push(...values(page));
      since = page.at(-1)!.hlc;
    }
    expect(seen).toEqual(['late0', 'late1', 'late2', 'late3', 'late4', 'mark', 'up1', 'up2']);
  });

  it('uses a reply whose max lies below the watermark as a valid watermark too', () => {
    const r = f.open({ now: clock.now });
    r.applyChanges([tx(A, T0 + 50, 0, col('t', [1], 'c', 'x'))]);
    const w = r.getChangesSince(S).at(-1)!.hlc;
    r.applyChanges([tx(B, T0 + 10, 0, col('t', [2], 'c', 'late'))]);
    const reply = r.getChangesSince(S, w);
    const h = reply.at(-1)!.hlc; // the real client moves its watermark back to this
    expect(compareHLC(h, w)).toBeLessThan(0);
    r.applyChanges([tx(C, T0 + 5, 0, col('t', [3], 'c', 'later still'))]);
    expect(values(r.getChangesSince(S, h))).toContain('later still');
  });

  it('never counts a reply as delivered: a lost reply leaves its late facts due', () => {
    const r = f.open({ now: clock.now });
    r.applyChanges([tx(A, T0 + 50, 0, col('t', [1], 'c', 'x'))]);
    const w = r.getChangesSince(S).at(-1)!.hlc;
    r.applyChanges([tx(B, T0 + 10, 0, col('t', [2], 'c', 'late'))]);
    r.getChangesSince(S, w); // lost in transit: the replica stays at w
    r.applyChanges([tx(C, T0 + 20, 0, col('t', [3], 'c', 'later'))]);
    expect(values(r.getChangesSince(S, w))).toEqual(['late', 'later']);
  });

  it('does not take a record for a higher watermark as proof for a lower one', () => {
    const r = f.open({ now: clock.now });
    r.applyChanges([tx(A, T0 + 50, 0, col('t', [1], 'c', 'x'))]);
    const w = r.getChangesSince(S).at(-1)!.hlc;
    r.applyChanges([tx(B, T0 + 10, 0, col('t', [2], 'c', 'late')), tx(C, T0 + 90, 0, col('t', [3], 'c', 'up'))]);
    const lost = r.getChangesSince(S, w); // carried 'late' and a higher max, then was lost
    expect(values(lost)).toEqual(['late', 'up']);
    r.getChangesSince(siteOf(11)); // unrelated traffic
    expect(values(r.getChangesSince(S, w))).toEqual(['late', 'up']);
  });

  it('forgets watermarks beyond its bounds and then falls back to a full, still correct catch-up', () => {
    const r = f.open({ now: clock.now, watermarksPerSite: 1, maxWatermarkSites: 1 });
    r.applyChanges([tx(A, T0 + 50, 0, col('t', [1], 'c', 'x'))]);
    const w = r.getChangesSince(S).at(-1)!.hlc;
    r.getChangesSince(siteOf(10)); // another site pushes S out of the bookkeeping
    r.applyChanges([tx(B, T0 + 10, 0, col('t', [2], 'c', 'late'))]);
    expect(values(r.getChangesSince(S, w))).toEqual(['late']); // 'x' is the fact at w itself
  });

  it('keeps at most watermarksPerSite records per site, forgetting the least recently used', () => {
    const r = f.open({ now: clock.now, watermarksPerSite: 2 });
    const marks: ChangeSet['hlc'][] = [];
    let since: ChangeSet['hlc'] | undefined;
    for (let i = 0; i < 5; i++) {
      r.applyChanges([tx(A, T0 + 10 * (i + 1), 0, col('t', [i], 'c', `v${i}`))]);
      since = r.getChangesSince(S, since).at(-1)!.hlc;
      marks.push(since);
    }
    r.applyChanges([tx(B, T0 + 1, 0, col('t', [99], 'c', 'late'))]);
    // the newest watermark is remembered: only the late fact is due
    expect(values(r.getChangesSince(S, marks[4]))).toEqual(['late']);
    // the oldest was forgotten: everything below it is served again, late fact included
    expect(values(r.getChangesSince(S, marks[0]))).toEqual(['late', 'v1', 'v2', 'v3', 'v4']);
  });

  it('treats an unknown watermark conservatively (everything at or below it is re-served)', () => {
    const r = f.open({ now: clock.now });
    r.applyChanges([tx(A, T0 + 1, 0, col('t', [1], 'c', 1)), tx(A, T0 + 2, 0, col('t', [2], 'c', 2))]);
    const handMade = makeHLC(BigInt(T0 + 1), 0, A, 5);
    const out = r.getChangesSince(S, handMade);
    expect(values(out)).toEqual([1, 2]);
    expect(r.getChangesSince(S, out.at(-1)!.hlc)).toEqual([]);
  });

  it('serves migration-only transactions in order and never past the batch cut', () => {
    const r = f.open({ now: clock.now });
    r.applyChanges([
      tx(A, T0 + 1, 0, col('t', [1], 'c', 1), col('t', [1], 'd', 1)),
      tx(A, T0 + 2, 0, createTable('x')),
      tx(A, T0 + 3, 0, col('t', [2], 'c', 2)),
      tx(A, T0 + 4, 0, createTable('y')),
    ]);
    const first = r.getChangesSince(S, undefined, { batchSize: 2 });
    expect(first.length).toBe(1);
    const rest = r.getChangesSince(S, first[0]!.hlc, { batchSize: 2 });
    expect(rest.map((cs) => cs.schemaMigrations.map((m) => m.table).join() || 'data')).toEqual(['x', 'data', 'y']);
  });

  it('serves a transaction straddling the watermark as one set', () => {
    const r = f.open({ now: clock.now });
    const whole = tx(A, T0 + 5, 0, col('t', [1], 'a', 1), col('t', [1], 'b', 2), col('t', [1], 'c', 3));
    r.applyChanges([whole]);
    const mid = whole.changes[1]!.hlc;
    const out = r.getChangesSince(S, mid);
    expect(out.length).toBe(1);
    // the unknown watermark makes the facts below it candidates too; the one at it was delivered with it
    expect(out[0]!.changes.map((c) => c.hlc.opSeq)).toEqual([0, 2]);
  });
});
