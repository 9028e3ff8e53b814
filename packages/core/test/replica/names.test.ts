// Names as the engine keeps them: `__proto__` is a legal (quoted) SQL identifier and must survive
// every path (merge, changes since, snapshot out and in, reopen); a name a store cannot keep
// exactly (an unpaired surrogate) is refused before anything is written.
import { encodeChangeSet, WireError, type Replica, type SqlValue } from '@syncord/core';
import { describe, expect, it } from 'vitest';
import { col, del, dump, FACTORIES, perTestReplicas, siteOf, tx, reopenable } from './helpers.js';

const A = siteOf(1);
const S = siteOf(9);
const T0 = 1_700_000_000_000;

describe.each(FACTORIES)('names on the %s store', (kind, make) => {
  const { f, clock } = perTestReplicas(make, T0 + 100_000);

  it('keeps a table and a column named __proto__ through apply, changes since, snapshot and reopen', async () => {
    const r = f.open({ now: clock.now }, 'proto');
    const set = tx(
      A,
      T0,
      0,
      {
        type: 'create_table',
        schema: '__proto__',
        table: '__proto__',
        ddl: 'create table "__proto__" (x)',
        schemaVersion: 1,
      },
      { ...col('__proto__', [1], '__proto__', 'p'), schema: '__proto__' },
      { ...col('__proto__', [1], 'constructor', 'c'), schema: '__proto__' },
      col('t', [2], '__proto__', JSON.parse('{"__proto__":"json"}') as SqlValue),
      { ...del('__proto__', [3]), schema: '__proto__' },
    );
    expect(r.applyChanges([set])).toMatchObject({ applied: 5 });
    const check = async (replica: Replica): Promise<void> => {
      expect([...replica.readRow('__proto__', '__proto__', [1])!]).toEqual([
        ['__proto__', 'p'],
        ['constructor', 'c'],
      ]);
      expect(JSON.stringify(replica.readRow('main', 't', [2])!.get('__proto__'))).toBe('{"__proto__":"json"}');
      expect(replica.getChangesSince(S).map((cs) => encodeChangeSet(cs))).toEqual([encodeChangeSet(set)]);
      const copy = f.open({ now: clock.now });
      await copy.applySnapshot(replica.snapshot());
      expect(await dump(copy)).toEqual(await dump(replica));
    };
    await check(r);
    if (reopenable(kind)) {
      r.close();
      await check(f.open({ now: clock.now }, 'proto'));
    }
  });

  it('refuses names with an unpaired surrogate or NUL from any caller, writing nothing', async () => {
    const r = f.open({ now: clock.now });
    const before = await dump(r);
    for (const bad of [
      tx(A, T0, 0, col('t\uD800', [1], 'c', 1)),
      tx(A, T0, 0, col('t', [1], '\uDC00', 1)),
      tx(A, T0, 0, col('t', [1], 'c', 1), { ...del('t', [2]), schema: 'm\0' }),
    ]) {
      expect(() => r.applyChanges([bad])).toThrow(WireError);
    }
    expect(() => r.commitLocal({ changes: [col('t\uDBFF', [1], 'c', 1)] })).toThrow(/must be well-formed/);
    expect(await dump(r)).toEqual(before);
  });
});
