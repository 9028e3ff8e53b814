import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Backoff } from '@syncord/client';
import { SnapshotAbortedError, SnapshotFeed } from '../src/sync/snapshot-feed.js';

describe('Backoff', () => {
  it('doubles the ceiling up to the cap and draws each delay uniformly below it (full jitter)', () => {
    const top = new Backoff({ baseDelayMs: 100, maxDelayMs: 1000, random: () => 0.999999 });
    expect(Array.from({ length: 7 }, () => top.next())).toEqual([99, 199, 399, 799, 999, 999, 999]);
    const bottom = new Backoff({ baseDelayMs: 100, maxDelayMs: 1000, random: () => 0 });
    expect(Array.from({ length: 3 }, () => bottom.next())).toEqual([0, 0, 0]);
  });

  it('stays within [0, min(cap, base·2^n)) for any random source and attempt count', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10_000 }),
        fc.integer({ min: 0, max: 100_000 }),
        fc.array(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), { minLength: 1, maxLength: 80 }),
        (base, extra, draws) => {
          const cap = base + extra;
          let i = 0;
          const b = new Backoff({ baseDelayMs: base, maxDelayMs: cap, random: () => draws[i % draws.length]! });
          for (i = 0; i < draws.length; i++) {
            const ceiling = Math.min(cap, base * 2 ** i);
            const d = b.next();
            expect(d).toBeGreaterThanOrEqual(0);
            expect(d).toBeLessThan(ceiling);
          }
        },
      ),
      { numRuns: 100 },
    );
  });

  it('reset starts over from the base delay', () => {
    const b = new Backoff({ baseDelayMs: 10, maxDelayMs: 10_000, random: () => 0.5 });
    for (let i = 0; i < 5; i++) b.next();
    expect(b.ceiling()).toBe(320);
    b.reset();
    expect(b.ceiling()).toBe(10);
    expect(b.attemptCount).toBe(0);
  });

  it('refuses settings that make no sense', () => {
    expect(() => new Backoff({ baseDelayMs: 0 })).toThrow(RangeError);
    expect(() => new Backoff({ baseDelayMs: 100, maxDelayMs: 50 })).toThrow(RangeError);
  });
});

describe('SnapshotFeed', () => {
  const footer = { type: 'footer', snapshotId: 's', totalTables: 0, totalEntries: 0, totalMigrations: 0 } as const;

  it('yields queued chunks in order and ends after snapshot_complete', async () => {
    const feed = new SnapshotFeed(10_000);
    const got: string[] = [];
    const reading = (async () => {
      for await (const c of feed) got.push(c.type);
    })();
    feed.push({ type: 'table-start', schema: 'main', table: 't', estimatedEntries: 0 });
    feed.push(footer);
    feed.end();
    await reading;
    expect(got).toEqual(['table-start', 'footer']);
  });

  it('fails the reader when no chunk arrives within the stall timeout', async () => {
    const feed = new SnapshotFeed(20);
    const reading = (async () => {
      for await (const _ of feed) void _;
    })();
    await expect(reading).rejects.toBeInstanceOf(SnapshotAbortedError);
    expect(feed.finished).toBe(true);
  });

  it('an abort drops what is queued and is final', async () => {
    const feed = new SnapshotFeed(10_000);
    feed.push(footer);
    feed.fail('connection closed');
    feed.push(footer);
    feed.end();
    const reading = (async () => {
      for await (const _ of feed) void _;
    })();
    await expect(reading).rejects.toThrow('connection closed');
  });
});
