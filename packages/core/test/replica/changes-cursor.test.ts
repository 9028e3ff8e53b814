// A catch-up served page by page (items 2 and 6): every page bounded by the batch size in whole
// transactions, nothing twice within one cursor, and every page's max a watermark a client can
// resume from without losing anything.
import { makeHLC, type ChangeSet, type ChangesPage, type HLC, type Replica } from '@syncord/core';
import { describe, expect, it } from 'vitest';
import { col, FACTORIES, perTestReplicas, siteOf, tx } from './helpers.js';

const A = siteOf(1);
const B = siteOf(2);
const S = siteOf(9);
const T0 = 1_700_000_000_000;

const keyOf = (cs: ChangeSet): string[] =>
  cs.changes.map((c) => `${String(c.pk[0])}:${c.type === 'column' ? c.column : 'del'}`);
const data = (page: ChangesPage): number => page.changeSets.reduce((n, cs) => n + cs.changes.length, 0);

function drain(r: Replica, since: HLC | undefined, batchSize: number): ChangesPage[] {
  const cursor = r.openChangesCursor(S, since, { batchSize });
  const pages: ChangesPage[] = [];
  for (let i = 0; i < 1000; i++) {
    const page = cursor.next();
    pages.push(page);
    if (!page.more) return pages;
  }
  throw new Error('the cursor did not end');
}

/** `count` transactions of `per` cells each, from `site`, at wall times from `wall` on. */
function writes(site: Uint8Array, wall: number, count: number, per: number, first: number): ChangeSet[] {
  return Array.from({ length: count }, (_, i) =>
    tx(site, wall + i, 0, ...Array.from({ length: per }, (__, j) => col('t', [first + i], `c${j}`, i))),
  );
}

function expectBounded(pages: ChangesPage[], bound: number): void {
  for (const page of pages) {
    const last = page.changeSets.at(-1);
    // Whole transactions: only the one that crossed the bound may take a page past it.
    expect(data(page) - (last?.changes.length ?? 0)).toBeLessThan(bound);
  }
  expect(pages.at(-1)!.more).toBe(false);
  expect(pages.slice(0, -1).every((p) => p.more && p.changeSets.length > 0)).toBe(true);
}

describe.each(FACTORIES)('the catch-up cursor on the %s store', (_name, make) => {
  const { f, clock } = perTestReplicas(make, T0 + 1_000_000);

  it('pages 5,000 changes by the bound, each fact exactly once, in HLC order', () => {
    const r = f.open({ now: clock.now, guardCoverage: true });
    r.applyChanges(writes(A, T0, 700, 8, 0)); // 5,600 changes
    const pages = drain(r, undefined, 1000);
    expectBounded(pages, 1000);
    const sets = pages.flatMap((p) => p.changeSets);
    const keys = sets.flatMap(keyOf);
    expect(keys.length).toBe(5600);
    expect(new Set(keys).size).toBe(5600);
    expect(sets.map((cs) => cs.hlc.wallTime)).toEqual(
      [...sets.map((cs) => cs.hlc.wallTime)].sort((a, b) => (a < b ? -1 : 1)),
    );
  });

  it('pages a late part of 5,000 facts below an unknown watermark (item 6)', () => {
    const r = f.open({ now: clock.now, guardCoverage: true });
    r.applyChanges(writes(A, T0, 1000, 5, 0)); // 5,000 changes, all below W
    r.applyChanges(writes(B, T0 + 500_000, 30, 5, 5000)); // 150 above W
    const w = makeHLC(BigInt(T0 + 400_000), 0, B, 0); // no coverage record: everything below is due
    const pages = drain(r, w, 500);
    expectBounded(pages, 500);
    const keys = pages.flatMap((p) => p.changeSets.flatMap(keyOf));
    expect(keys.length).toBe(5150);
    expect(new Set(keys).size).toBe(5150);
  });

  it('bounds the late part of a single page too (HTTP, paging SDK)', () => {
    const r = f.open({ now: clock.now, guardCoverage: true });
    r.applyChanges(writes(A, T0, 1000, 5, 0));
    const w = makeHLC(BigInt(T0 + 400_000), 0, B, 0);
    const page = r.getChangesSince(S, w, { batchSize: 500 });
    expect(page.reduce((n, cs) => n + cs.changes.length, 0)).toBe(500);
  });

  it('loses nothing when the client drops after any page and resumes from its max', () => {
    const r = f.open({ now: clock.now, guardCoverage: true });
    r.applyChanges(writes(A, T0 + 100, 40, 3, 0));
    const w = r.getChangesSince(S).at(-1)!.hlc; // the client holds all of these
    r.applyChanges(writes(B, T0, 60, 3, 100)); // late: below W, arrived after
    r.applyChanges(writes(B, T0 + 200, 60, 3, 200)); // above W
    const pages = drain(r, w, 20);
    const late = pages.filter((p) => p.changeSets.at(-1)!.hlc.wallTime < w.wallTime).length;
    expect(late).toBeGreaterThan(2); // the late part took several pages, each with a max below W
    const all = new Set(pages.flatMap((p) => p.changeSets.flatMap(keyOf)));
    expect(all.size).toBe(360);
    for (let k = 0; k < pages.length - 1; k++) {
      const got = new Set(pages.slice(0, k + 1).flatMap((p) => p.changeSets.flatMap(keyOf)));
      const resumed = drain(r, pages[k]!.changeSets.at(-1)!.hlc, 20);
      for (const key of resumed.flatMap((p) => p.changeSets.flatMap(keyOf))) got.add(key);
      // Everything the client lacked (held before W, or served) is there after the resume.
      for (const key of all) expect(got.has(key) || Number(key.split(':')[0]) < 40).toBe(true);
    }
  });

  it('serves a transaction straddling the watermark as one set across the late and upper parts', () => {
    const r = f.open({ now: clock.now, guardCoverage: true });
    r.applyChanges([tx(A, T0 + 5, 0, col('t', [1], 'a', 1), col('t', [1], 'b', 2), col('t', [1], 'c', 3))]);
    const mid: HLC = makeHLC(BigInt(T0 + 5), 0, A, 1);
    const pages = drain(r, mid, 1);
    expect(pages).toHaveLength(1);
    expect(pages[0]!.changeSets.map((cs) => cs.changes.map((c) => c.hlc.opSeq))).toEqual([[0, 2]]);
  });

  it('ends with an empty last page when nothing is due', () => {
    const r = f.open({ now: clock.now, guardCoverage: true });
    expect(drain(r, undefined, 10)).toEqual([{ changeSets: [], more: false }]);
  });
});
