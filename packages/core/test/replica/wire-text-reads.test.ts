// The catch-up and snapshot as wire text (ChangesCursor.nextJson, Replica.snapshotJson) must be
// byte for byte what encoding their object forms gives: a server sends the text, a client decodes
// it with the same decoders as before. The data covers every kind of fact and value the encoders
// treat differently.
import {
  encodeChangesJson,
  encodeServerMessage,
  encodeSnapshotChunk,
  makeHLC,
  type ChangeSet,
  type HLC,
  type Replica,
} from '@syncord/core';
import { describe, expect, it } from 'vitest';
import { col, collect, createTable, del, FACTORIES, perTestReplicas, siteOf, tx } from './helpers.js';

const A = siteOf(1);
const B = siteOf(2);
const S = siteOf(9);
const T0 = 1_700_000_000_000;

/** Tables, tombstones with and without a before-image, every value kind, a migration, and 4-digit opSeqs. */
function history(): ChangeSet[] {
  const sets: ChangeSet[] = [tx(A, T0, 0, createTable('t'), col('t', [1], 'a', 'x'), col('t', [1], 'b', 1.5))];
  sets.push(
    tx(
      B,
      T0 + 1,
      3,
      col('t', [2], 'blob', new Uint8Array([0, 1, 254, 255])),
      col('t', [2], 'big', 12345678901234567890n),
      col('t', [2], 'json', { nested: ['é', '"quoted"\n', null] }),
      col('t', ['text pk \u2028', 7], 'n', null),
      col('t', [3], 'bool', true),
      col('t', [3], 'neg', -0.25),
      col('t', [3], 'int', -42),
      col('u', [new Uint8Array([9, 9])], 'v', 'in another table'),
    ),
  );
  sets.push(tx(A, T0 + 2, 0, del('t', [1])));
  // A wide transaction: opSeq runs past one byte, and its facts span many rows.
  sets.push(tx(B, T0 + 3, 65_535, ...Array.from({ length: 300 }, (_, i) => col('w', [i], `c${i % 3}`, `v${i}`))));
  return sets;
}

function pagesAsText(r: Replica, since: HLC | undefined, batchSize: number, json: boolean): string[] {
  const cursor = r.openChangesCursor(S, since, { batchSize });
  const out: string[] = [];
  for (let i = 0; i < 1000; i++) {
    if (json) {
      const page = cursor.nextJson();
      expect(JSON.parse(page.changeSetsJson)).toHaveLength(page.changeSetCount);
      out.push(encodeChangesJson(page.changeSetsJson, page.more));
      if (!page.more) return out;
    } else {
      const page = cursor.next();
      out.push(encodeServerMessage({ type: 'changes', changeSets: page.changeSets, more: page.more }));
      if (!page.more) return out;
    }
  }
  throw new Error('the cursor did not end');
}

describe.each(FACTORIES)('reads as wire text on the %s store', (_name, make) => {
  const { f, clock } = perTestReplicas(make, T0 + 1_000_000);

  /** Two replicas holding the same facts: each way of reading gets its own bookkeeping. */
  function twins(): [Replica, Replica] {
    const rs: [Replica, Replica] = [f.open({ now: clock.now }), f.open({ now: clock.now })];
    for (const r of rs) r.applyChanges(history());
    return rs;
  }

  it.each([1, 7, 1000, Infinity])('catch-up pages of batch size %s are the encoded change sets', (batchSize) => {
    const [objects, text] = twins();
    const expected = pagesAsText(objects, undefined, batchSize, false);
    expect(pagesAsText(text, undefined, batchSize, true)).toEqual(expected);
    expect(expected.length).toBeGreaterThan(batchSize <= 7 ? 1 : 0);
  });

  it('a catch-up from a watermark inside a transaction, with late facts below it, is the same text', () => {
    const [objects, text] = twins();
    const w = makeHLC(BigInt(T0 + 3), 65_535, B, 100); // inside the wide transaction
    expect(pagesAsText(text, w, 50, true)).toEqual(pagesAsText(objects, w, 50, false));
  });

  it('a snapshot is the encoded chunks, header and footer included', async () => {
    const r = f.open({ now: clock.now });
    r.applyChanges(history());
    for (const chunkSize of [1, 5, 1000]) {
      const objects = (await collect(r.snapshot({ chunkSize }))).map((c) => JSON.stringify(encodeSnapshotChunk(c)));
      const text = await collect(r.snapshotJson({ chunkSize }));
      // Each stream has its own id and clock reading; everything else must match.
      const fresh = (s: string): string =>
        s
          .replace(/"snapshotId":"[^"]+"/, '"snapshotId":""')
          .replace(/^(\{"type":"header","siteId":"[^"]+","hlc":)"[^"]+"/, '$1""');
      expect(text.map(fresh)).toEqual(objects.map(fresh));
      expect(text.some((t) => t.startsWith('{"type":"tombstone"'))).toBe(true);
    }
  });
});
