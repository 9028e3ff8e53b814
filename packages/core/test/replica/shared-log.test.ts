// Replicas fed from one shared log (a cluster's nodes): arrival positions derived from the log
// position are the same on every replica, and a coverage record one replica writes while serving
// a catch-up, applied on another, makes that watermark good there too.
import type { ChangeSet } from '@syncord/core';
import type { CoverageNote } from '@syncord/core';
import { ClockDriftError } from '@syncord/core';
import { describe, expect, it } from 'vitest';
import { col, FACTORIES, perTestReplicas, siteOf, tx } from './helpers.js';

const A = siteOf(1);
const B = siteOf(2);
const READER = siteOf(7);
const T0 = 1_700_000_000_000;

const values = (sets: ChangeSet[]): unknown[] =>
  sets.flatMap((cs) => cs.changes.map((c) => (c.type === 'column' ? c.value : undefined)));

describe.each(FACTORIES)('replicas of one log on the %s store', (_name, make) => {
  const { f, clock } = perTestReplicas(make, T0 + 100_000);

  it('numbers the facts of log entry n from the floor given, on every replica alike', () => {
    const log = [tx(A, T0 + 10, 0, col('t', [1], 'c', 'a')), tx(B, T0 + 20, 0, col('t', [2], 'c', 'b'))];
    const seqsAfter = (name: string, prior?: ChangeSet) => {
      const r = f.open({ now: clock.now, guardCoverage: true }, name);
      // A replica that stored something else before (its own numbering) still agrees from here on.
      if (prior) r.applyChanges([prior]);
      const seqs = log.map((entry, n) => {
        r.applyChanges([entry], { arrivalSeqFloor: (n + 1) * 1024 });
        return r.lastSeq;
      });
      r.close();
      return seqs;
    };
    const plain = seqsAfter('one');
    expect(plain).toEqual([1024 + 1, 2048 + 1]);
    expect(seqsAfter('two', tx(B, T0 + 1, 0, col('u', [9], 'c', 'x')))).toEqual(plain);
  });

  it('skips the drift check for a log entry, which its receiver already checked', () => {
    const r = f.open({ now: clock.now });
    const ahead = tx(A, T0 + 100_000 + 3_600_000, 0, col('t', [1], 'c', 'future'));
    expect(() => r.applyChanges([ahead])).toThrow(ClockDriftError);
    expect(r.applyChanges([ahead], { arrivalSeqFloor: 1024 }).applied).toBe(1);
  });

  it('tells onCoverage of each record a catch-up writes; applied elsewhere, it spares a full re-send', () => {
    const notes: CoverageNote[] = [];
    const served = f.open({ now: clock.now, guardCoverage: true, onCoverage: (n) => notes.push(n) }, 'a');
    const other = f.open({ now: clock.now, guardCoverage: true }, 'b');
    const entries = [tx(A, T0 + 10, 0, col('t', [1], 'c', 'one')), tx(A, T0 + 20, 0, col('t', [2], 'c', 'two'))];
    entries.forEach((e, n) => {
      for (const r of [served, other]) r.applyChanges([e], { arrivalSeqFloor: (n + 1) * 1024 });
    });
    const page = served.getChangesSince(READER);
    expect(notes).toEqual([expect.objectContaining({ rule: 'reply', covered: served.lastSeq })]);
    const watermark = page.at(-1)!.hlc;
    const later = tx(B, T0 + 30, 0, col('t', [3], 'c', 'three'));
    for (const r of [served, other]) r.applyChanges([later], { arrivalSeqFloor: 3 * 1024 });

    // Without the record the other replica must send every fact below the watermark again (all
    // of them could be late); with it, only what is new.
    expect(values(other.getChangesSince(READER, watermark))).toEqual(['one', 'three']);
    const fresh = f.open({ now: clock.now, guardCoverage: true }, 'c');
    [...entries, later].forEach((e, n) => fresh.applyChanges([e], { arrivalSeqFloor: (n + 1) * 1024 }));
    fresh.applyCoverage(notes[0]!);
    expect(values(fresh.getChangesSince(READER, watermark))).toEqual(['three']);
  });
});
