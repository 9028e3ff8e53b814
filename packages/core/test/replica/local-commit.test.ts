import { encodeHLC, transactionIdOf, WireError } from '@syncord/core';
import { describe, expect, it } from 'vitest';
import { col, dump, FACTORIES, perTestReplicas, rowOf, siteOf, tx } from './helpers.js';

const T0 = 1_700_000_000_000;

describe.each(FACTORIES)('commitLocal and local state on the %s store', (_name, make) => {
  const { f, clock } = perTestReplicas(make, T0);

  it('ticks once per transaction, numbers DDL first, applies locally and returns the peers’ change set', () => {
    const r = f.open({ now: clock.now });
    const cs = r.commitLocal({
      migrations: [
        { type: 'create_table', schema: 'main', table: 'notes', ddl: 'create table notes (id)', schemaVersion: 1 },
      ],
      changes: [
        { type: 'column', schema: 'main', table: 'notes', pk: [1], column: 'id', value: 1 },
        { type: 'column', schema: 'main', table: 'notes', pk: [1], column: 'title', value: 'hi' },
        { type: 'delete', schema: 'main', table: 'notes', pk: [2] },
      ],
    });
    expect(cs.siteId).toEqual(r.siteId);
    expect(cs.schemaMigrations.map((m) => m.hlc.opSeq)).toEqual([0]);
    expect(cs.changes.map((c) => c.hlc.opSeq)).toEqual([1, 2, 3]);
    expect(encodeHLC(cs.hlc)).toBe(encodeHLC(cs.changes[2]!.hlc));
    expect(cs.transactionId).toBe(transactionIdOf(cs.hlc));
    expect(cs.hlc.wallTime).toBe(BigInt(T0));
    expect(rowOf(r, 'notes', [1])).toEqual({ id: 1, title: 'hi' });
    const next = r.commitLocal({
      changes: [{ type: 'column', schema: 'main', table: 'notes', pk: [1], column: 'title', value: 'v2' }],
    });
    expect(next.hlc).toMatchObject({ wallTime: BigInt(T0), counter: 1, opSeq: 0 });
    expect(rowOf(r, 'notes', [1])).toEqual({ id: 1, title: 'v2' });
  });

  it('replays identically on a peer (the local copy holds what the wire carries)', async () => {
    const a = f.open({ now: clock.now });
    const b = f.open({ now: clock.now });
    const weird = { __bin: 'AQI=' }; // a JSON object every decoder reads as a blob
    const cs = a.commitLocal({
      changes: [
        { type: 'column', schema: 'main', table: 't', pk: [1], column: 'odd', value: weird },
        { type: 'column', schema: 'main', table: 't', pk: [1], column: 'zero', value: -0 },
        { type: 'column', schema: 'main', table: 't', pk: [1], column: 'nan', value: NaN },
      ],
    });
    b.applyChanges([cs]);
    expect(await dump(b)).toEqual(await dump(a));
    expect(rowOf(a, 't', [1])).toEqual({ odd: new Uint8Array([1, 2]), zero: 0, nan: null });
  });

  it('refuses bad local input with a clear error and changes nothing', async () => {
    const r = f.open({ now: clock.now });
    const before = r.clockNow();
    expect(() => r.commitLocal({ changes: [] })).toThrow(/at least one/);
    expect(() =>
      r.commitLocal({ changes: [{ type: 'column', schema: 'main', table: 't', pk: [], column: 'c', value: 1 }] }),
    ).toThrow(WireError);
    const bad = [
      { type: 'column', schema: 'main', table: 't', pk: [1], column: 'ok', value: 1 },
      { type: 'column', schema: 'main', table: 't', pk: [1], column: 'c', value: (() => 1) as unknown as string },
    ] as const;
    expect(() => r.commitLocal({ changes: bad })).toThrow(WireError);
    expect(() =>
      r.commitLocal({ changes: [{ type: 'column', schema: '', table: 't', pk: [1], column: 'c', value: 1 }] }),
    ).toThrow(WireError);
    expect(await dump(r)).toEqual([]);
    expect(r.clockNow()).toEqual(before);
  });

  it('skips a local column write on a deleted row, as every peer will', () => {
    const r = f.open({ now: clock.now });
    r.applyChanges([tx(siteOf(2), T0 - 10, 0, col('t', [1], 'c', 'x'))]);
    r.commitLocal({ changes: [{ type: 'delete', schema: 'main', table: 't', pk: [1] }] });
    r.commitLocal({ changes: [{ type: 'column', schema: 'main', table: 't', pk: [1], column: 'c', value: 'again' }] });
    expect(rowOf(r, 't', [1])).toBeUndefined();
  });

  it('keeps a small local key/value space and lists live rows', () => {
    const r = f.open({ now: clock.now });
    expect(r.getLocal('w')).toBeUndefined();
    r.setLocal('w', 'abc');
    expect(r.getLocal('w')).toBe('abc');
    r.commitLocal({
      changes: [2, 1, 3].map((i) => ({
        type: 'column' as const,
        schema: 'main',
        table: 't',
        pk: [i],
        column: 'c',
        value: i * 10,
      })),
    });
    r.commitLocal({ changes: [{ type: 'delete', schema: 'main', table: 't', pk: [3] }] });
    expect([...r.listRows('main', 't')].map((row) => [row.pk, Object.fromEntries(row.columns)])).toEqual([
      [[1], { c: 10 }],
      [[2], { c: 20 }],
    ]);
    expect([...r.listRows('main', 'none')]).toEqual([]);
  });
});
