import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toHex } from '../clock/bytes.js';
import { encodeHLC, makeHLC, type HLC } from '../clock/hlc.js';
import { encodeSiteId } from '../clock/site-id.js';
import { transactionIdOf } from '../clock/transaction-id.js';
import { decodeChangeSet, encodeChangeSet } from './change-set.js';
import { decodeSchemaMigration, encodeSchemaMigration } from './schema-migration.js';
import { MIGRATION_TYPES, type Change, type ChangeSet, type SchemaMigration, type SqlValue } from './types.js';
import { WireError } from './wire-error.js';

// PROTOCOL.md §2, verbatim.
const EXAMPLE = `{
  "siteId": "w9Lh8KGyTD2ej3prXE0-Lw",
  "transactionId": "1718000001234:0:w9Lh8KGyTD2ej3prXE0-Lw",
  "hlc": "AAABkADHoNIAAMPS4fChskw9no96a1xNPi8AAAAC",
  "changes": [
    { "type": "column", "schema": "main", "table": "notes", "pk": [42],
      "column": "id", "value": 42,
      "hlc": "AAABkADHoNIAAMPS4fChskw9no96a1xNPi8AAAAA" },
    { "type": "column", "schema": "main", "table": "notes", "pk": [42],
      "column": "title", "value": "hello",
      "hlc": "AAABkADHoNIAAMPS4fChskw9no96a1xNPi8AAAAB",
      "priorValue": "hi", "priorHlc": "AAABkADHdPAAAW8cKp5LfUwajj8AESIzRFUAAAAA" },
    { "type": "delete", "schema": "main", "table": "tags", "pk": [{"__bin":"3q2+7w=="}],
      "hlc": "AAABkADHoNIAAMPS4fChskw9no96a1xNPi8AAAAC",
      "priorRow": [{"__bin":"3q2+7w=="}, "urgent"] }
  ],
  "schemaMigrations": []
}`;
const MIGRATION = `{ "type": "create_table", "schema": "main", "table": "notes",
  "ddl": "create table notes (id integer primary key, title text, body blob)",
  "hlc": "AAABkADHnAAAAG8cKp5LfUwajj8AESIzRFUAAAAA", "schemaVersion": 1 }`;

type Json = Record<string, unknown> & { changes: Record<string, unknown>[]; schemaMigrations: unknown[] };
const example = (): Json => JSON.parse(EXAMPLE) as Json;
const canonical = (text: string): string => JSON.stringify(JSON.parse(text));
const DEADBEEF = Uint8Array.from([0xde, 0xad, 0xbe, 0xef]);

describe('ChangeSet golden vector (PROTOCOL.md §2)', () => {
  it('decodes to what the example claims', () => {
    const cs = decodeChangeSet(example());
    expect(toHex(cs.siteId)).toBe('c3d2e1f0a1b24c3d9e8f7a6b5c4d3e2f');
    expect(cs.transactionId).toBe('1718000001234:0:w9Lh8KGyTD2ej3prXE0-Lw');
    expect(cs.hlc).toEqual({ wallTime: 1718000001234n, counter: 0, siteId: cs.siteId, opSeq: 2 });
    expect(cs.changes.map((c) => c.hlc.opSeq)).toEqual([0, 1, 2]);
    for (const c of cs.changes) expect(transactionIdOf(c.hlc)).toBe(cs.transactionId);
    const [id, title, del] = cs.changes;
    expect(id).toMatchObject({ type: 'column', schema: 'main', table: 'notes', pk: [42], column: 'id', value: 42 });
    expect(title).toMatchObject({ column: 'title', value: 'hello', prior: { value: 'hi' } });
    const priorHlc = title?.type === 'column' ? title.prior?.hlc : undefined;
    expect(priorHlc).toMatchObject({ wallTime: 1717999990000n, counter: 1, opSeq: 0 });
    expect(toHex(priorHlc!.siteId)).toBe('6f1c2a9e4b7d4c1a8e3f001122334455');
    expect(del).toEqual({
      type: 'delete',
      schema: 'main',
      table: 'tags',
      pk: [DEADBEEF],
      hlc: { ...cs.hlc, opSeq: 2 },
      priorRow: [DEADBEEF, 'urgent'],
    });
    expect(cs.schemaMigrations).toEqual([]);
  });

  it('re-encodes byte for byte', () => {
    expect(JSON.stringify(encodeChangeSet(decodeChangeSet(example())))).toBe(canonical(EXAMPLE));
  });

  it('round-trips the SchemaMigration example byte for byte', () => {
    const m = decodeSchemaMigration(JSON.parse(MIGRATION));
    expect(m.hlc).toMatchObject({ wallTime: 1718000000000n, counter: 0, opSeq: 0 });
    expect(encodeSiteId(m.hlc.siteId)).toBe('bxwqnkt9TBqOPwARIjNEVQ');
    expect(m).toMatchObject({ type: 'create_table', table: 'notes', schemaVersion: 1 });
    expect(JSON.stringify(encodeSchemaMigration(m))).toBe(canonical(MIGRATION));
  });

  it('keeps fromTable for rename_table', () => {
    const json = { ...JSON.parse(MIGRATION), type: 'rename_table', table: 'memos', fromTable: 'notes' };
    const m = decodeSchemaMigration(json);
    expect(m.fromTable).toBe('notes');
    expect(encodeSchemaMigration(m)).toEqual(json);
  });
});

describe('ChangeSet decoding rules', () => {
  it('reads a missing or null schemaMigrations as [] and always emits it', () => {
    for (const v of [undefined, null]) {
      const json = example();
      if (v === undefined) delete (json as Record<string, unknown>)['schemaMigrations'];
      else json['schemaMigrations'] = v as unknown as unknown[];
      const cs = decodeChangeSet(json);
      expect(cs.schemaMigrations).toEqual([]);
      expect(encodeChangeSet(cs).schemaMigrations).toEqual([]);
    }
  });

  it('rebuilds transactionId and normalises hlc to the max fact HLC', () => {
    const json = example();
    json['transactionId'] = 'anything at all';
    json['hlc'] = json.changes[0]!['hlc']; // opSeq 0, below the delete's opSeq 2
    const cs = decodeChangeSet(json);
    expect(cs.transactionId).toBe('1718000001234:0:w9Lh8KGyTD2ej3prXE0-Lw');
    expect(cs.hlc.opSeq).toBe(2);
    expect(JSON.stringify(encodeChangeSet(cs))).toBe(canonical(EXAMPLE));
  });

  it('accepts a set whose hlc opSeq is above every fact (facts filtered out) and lowers it', () => {
    const json = example();
    json['hlc'] = 'AAABkADHoNIAAMPS4fChskw9no96a1xNPi8AAAAJ';
    expect(decodeChangeSet(json).hlc.opSeq).toBe(2);
  });

  it('accepts a missing transactionId, ignores unknown fields, migrations take part in the max', () => {
    const json = example();
    delete (json as Record<string, unknown>)['transactionId'];
    json['extra'] = { nested: [1, 2] };
    json.changes[0]!['extra'] = true;
    json.changes = [];
    json.schemaMigrations = [{ ...JSON.parse(MIGRATION), hlc: 'AAABkADHoNIAAMPS4fChskw9no96a1xNPi8AAAAD', junk: 1 }];
    const cs = decodeChangeSet(json);
    expect(cs.hlc.opSeq).toBe(3);
    expect(cs.schemaMigrations[0]).not.toHaveProperty('junk');
  });

  it('keeps the claimed hlc of a set without facts', () => {
    const json = example();
    json.changes = [];
    expect(decodeChangeSet(json).hlc.opSeq).toBe(2);
  });

  const otherCounter = 'AAABkADHoNIAAcPS4fChskw9no96a1xNPi8AAAAB'; // counter 1
  const otherWall = 'AAABkADHoNMAAMPS4fChskw9no96a1xNPi8AAAAB'; // wallTime + 1
  const otherSite = 'AAABkADHoNIAAG8cKp5LfUwajj8AESIzRFUAAAAB'; // site bxwq…
  const set = (key: string, v: unknown) => (j: Json) => void (j[key] = v);
  const change = (i: number, key: string, v: unknown) => (j: Json) => void (j.changes[i]![key] = v);
  const drop = (i: number, key: string) => (j: Json) => void delete j.changes[i]![key];
  const migration = (patch: Record<string, unknown>) => (j: Json) =>
    void (j.schemaMigrations = [
      { ...JSON.parse(MIGRATION), hlc: 'AAABkADHoNIAAMPS4fChskw9no96a1xNPi8AAAAD', ...patch },
    ]);
  const nested = (depth: number): unknown => (depth === 0 ? 0 : [nested(depth - 1)]);

  it.each<[string, (j: Json) => void, RegExp]>([
    ['siteId missing', set('siteId', undefined), /^changeSet\.siteId must be a string/],
    ['siteId in the standard alphabet', set('siteId', 'w9Lh8KGyTD2ej3prXE0+Lw'), /siteId must use the base64url/],
    ['siteId too short', set('siteId', 'w9Lh8KGyTD2ej3prXE0-L'), /siteId must be 22 base64url characters/],
    ['transactionId a number', set('transactionId', 7), /^changeSet\.transactionId must be a string, got 7/],
    ['hlc missing', set('hlc', undefined), /^changeSet\.hlc must be a base64 string/],
    ['hlc 39 characters', set('hlc', 'AAABkADHoNIAAMPS4fChskw9no96a1xNPi8AAAA'), /must be 40 base64 characters/],
    ['hlc with bad base64', set('hlc', 'AAABkADHoNIAAMPS4fChskw9no96a1xNPi8AAA*C'), /invalid base64 character/],
    ['changes missing', set('changes', undefined), /^changeSet\.changes must be an array, got undefined/],
    ['changes an object', set('changes', {}), /changes must be an array, got an object/],
    ['a change that is null', (j) => void (j.changes[1] = null as never), /changes\[1\] must be an object, got null/],
    ['a change of type insert', change(0, 'type', 'insert'), /changes\[0\]\.type must be "column" or "delete"/],
    ['a change without type', drop(0, 'type'), /changes\[0\]\.type must be a string/],
    ['a numeric schema', change(0, 'schema', 5), /changes\[0\]\.schema must be a string, got 5/],
    ['an empty table', change(2, 'table', ''), /changes\[2\]\.table must not be empty/],
    ['a table with a lone surrogate', change(2, 'table', 'tags\uD800'), /changes\[2\]\.table must be well-formed/],
    [
      'a schema with a lone low surrogate',
      change(0, 'schema', '\uDC00main'),
      /changes\[0\]\.schema must be well-formed/,
    ],
    ['a column with a reversed pair', change(1, 'column', '\uDE00\uD83D'), /changes\[1\]\.column must be well-formed/],
    ['a column with NUL', change(1, 'column', 'ti\0tle'), /changes\[1\]\.column must not contain NUL/],
    ['an empty column', change(1, 'column', ''), /changes\[1\]\.column must not be empty/],
    ['pk missing', drop(0, 'pk'), /changes\[0\]\.pk must be an array/],
    ['pk a string', change(0, 'pk', '42'), /changes\[0\]\.pk must be an array/],
    ['pk with bad __bin', change(2, 'pk', [{ __bin: '@@@@' }]), /changes\[2\]\.pk\[0\]\.__bin: invalid base64/],
    ['pk with bad __bigint', change(0, 'pk', [{ __bigint: '12a' }]), /pk\[0\]\.__bigint must be a decimal/],
    ['column missing', drop(0, 'column'), /changes\[0\]\.column must be a string/],
    ['value missing', drop(0, 'value'), /changes\[0\]\.value is required/],
    ['value nested garbage', change(0, 'value', nested(150)), /changes\[0\]\.value.* nested deeper than 100/],
    ['value NaN', change(0, 'value', NaN), /changes\[0\]\.value must be a finite number/],
    ['a change hlc missing', drop(1, 'hlc'), /changes\[1\]\.hlc must be a base64 string/],
    ['a change hlc a number', change(1, 'hlc', 1718000001234), /changes\[1\]\.hlc must be a base64 string/],
    ['priorValue without priorHlc', drop(1, 'priorHlc'), /changes\[1\]: priorValue and priorHlc must appear together/],
    ['priorHlc without priorValue', drop(1, 'priorValue'), /priorValue and priorHlc must appear together/],
    ['priorHlc malformed', change(1, 'priorHlc', 'x'), /changes\[1\]\.priorHlc must be 40 base64 characters/],
    ['priorRow a string', change(2, 'priorRow', 'x'), /changes\[2\]\.priorRow must be an array/],
    [
      'a fact from another counter',
      change(1, 'hlc', otherCounter),
      /changes\[1\]\.hlc belongs to transaction 1718000001234:1:/,
    ],
    [
      'a fact from another wall time',
      change(1, 'hlc', otherWall),
      /changes\[1\]\.hlc belongs to transaction 1718000001235:0/,
    ],
    ['a fact from another site', change(1, 'hlc', otherSite), /changes\[1\]\.hlc belongs to transaction .*:bxwq/],
    ['a set hlc of another site', set('hlc', otherSite), /changeSet\.hlc has a siteId other than changeSet\.siteId/],
    ['a set hlc of another transaction', set('hlc', otherCounter), /changes\[0\]\.hlc belongs to transaction/],
    ['a set siteId other than its facts', set('siteId', 'bxwqnkt9TBqOPwARIjNEVQ'), /siteId other than/],
    [
      'two facts with one opSeq',
      change(1, 'hlc', 'AAABkADHoNIAAMPS4fChskw9no96a1xNPi8AAAAA'),
      /changes\[1\]\.hlc repeats opSeq 0/,
    ],
    ['schemaMigrations an object', set('schemaMigrations', {}), /schemaMigrations must be an array/],
    [
      'a migration type out of the list',
      migration({ type: 'create_view' }),
      /schemaMigrations\[0\]\.type must be one of create_table/,
    ],
    ['schemaVersion 0', migration({ schemaVersion: 0 }), /schemaMigrations\[0\]\.schemaVersion must be between 1 and/],
    ['schemaVersion 1.5', migration({ schemaVersion: 1.5 }), /schemaVersion must be an integer, got 1\.5/],
    ['schemaVersion "1"', migration({ schemaVersion: '1' }), /schemaVersion must be an integer, got "1"/],
    ['schemaVersion huge', migration({ schemaVersion: 2 ** 60 }), /schemaVersion must be an integer/],
    ['fromTable a number', migration({ fromTable: 5 }), /schemaMigrations\[0\]\.fromTable must be a string/],
    ['ddl missing', migration({ ddl: undefined }), /schemaMigrations\[0\]\.ddl must be a string/],
    ['ddl with a lone surrogate', migration({ ddl: 'create table \uD800 (x)' }), /\[0\]\.ddl must be well-formed/],
    ['a migration table with a lone surrogate', migration({ table: 'n\uDBFF' }), /\[0\]\.table must be well-formed/],
    ['a migration schema with NUL', migration({ schema: '\0' }), /\[0\]\.schema must not contain NUL/],
    ['a fromTable with a lone surrogate', migration({ fromTable: '\uD800' }), /\[0\]\.fromTable must be well-formed/],
    ['a migration of another transaction', migration({ hlc: otherCounter }), /schemaMigrations\[0\]\.hlc belongs to/],
    ['a migration sharing an opSeq', migration({ hlc: 'AAABkADHoNIAAMPS4fChskw9no96a1xNPi8AAAAB' }), /repeats opSeq 1/],
  ])('rejects %s', (_name, mutate, message) => {
    const json = example();
    mutate(json);
    expect(() => decodeChangeSet(json)).toThrow(WireError);
    expect(() => decodeChangeSet(json)).toThrow(message);
  });

  it('accepts any other name: surrogate pairs, __proto__, spaces and quotes are legal quoted identifiers', () => {
    const json = example();
    for (const [i, name] of ['😀 notes', '__proto__', 'a "b" c'].entries()) json.changes[i]!.table = name;
    json.changes[1]!.column = '__proto__';
    const cs = decodeChangeSet(JSON.parse(JSON.stringify(json)));
    expect(cs.changes.map((c) => c.table)).toEqual(['😀 notes', '__proto__', 'a "b" c']);
    expect(cs.changes[1]).toMatchObject({ column: '__proto__' });
  });

  it.each([null, [], 'x', 5, true])('rejects a set that is %j', (json) => {
    expect(() => decodeChangeSet(json)).toThrow(/^changeSet must be an object/);
  });

  it('uses the caller path as prefix', () => {
    const json = example();
    json.changes[2]!['pk'] = 5;
    expect(() => decodeChangeSet(json, 'changes[4]')).toThrow(/^changes\[4\]\.changes\[2\]\.pk must be an array/);
  });
});

// Random well-formed transactions: DDL takes the lowest opSeqs, then the data changes.
const arbValue: fc.Arbitrary<SqlValue> = fc.oneof(
  fc.constant(null),
  fc.string({ maxLength: 8 }),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((n) => (Object.is(n, -0) ? 0 : n)),
  fc.boolean(),
  fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }),
  fc.uint8Array({ maxLength: 8 }),
  fc.constant<SqlValue>({ tags: ['a', 1] }),
);
const arbPk = fc.array(arbValue, { minLength: 1, maxLength: 3 });
const arbName = fc.constantFrom('notes', 'tags', 'a b', 'ünï');
const arbPrior = fc.option(fc.record({ value: arbValue, wall: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }) }), {
  nil: undefined,
});

const arbChangeSet: fc.Arbitrary<ChangeSet> = fc
  .record({
    siteId: fc.uint8Array({ minLength: 16, maxLength: 16 }),
    wall: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
    counter: fc.integer({ min: 0, max: 65535 }),
    firstOpSeq: fc.integer({ min: 0, max: 2 ** 32 - 20 }),
    migrations: fc.array(
      fc.record({
        type: fc.constantFrom(...MIGRATION_TYPES),
        table: arbName,
        schemaVersion: fc.integer({ min: 1, max: 1000 }),
      }),
      { maxLength: 2 },
    ),
    changes: fc.array(
      fc.oneof(
        fc.record({
          kind: fc.constant('column' as const),
          table: arbName,
          pk: arbPk,
          value: arbValue,
          prior: arbPrior,
        }),
        fc.record({
          kind: fc.constant('delete' as const),
          table: arbName,
          pk: arbPk,
          priorRow: fc.option(fc.array(arbValue, { maxLength: 3 }), { nil: undefined }),
        }),
      ),
      { maxLength: 5 },
    ),
  })
  .map((r) => {
    const at = (opSeq: number): HLC => makeHLC(r.wall, r.counter, r.siteId, opSeq);
    let op = r.firstOpSeq;
    const schemaMigrations: SchemaMigration[] = r.migrations.map((m) => ({
      type: m.type,
      schema: 'main',
      table: m.table,
      ddl: `-- ${m.type} ${m.table}`,
      hlc: at(op++),
      schemaVersion: m.schemaVersion,
      ...(m.type === 'rename_table' ? { fromTable: 'old' } : {}),
    }));
    const changes: Change[] = r.changes.map((c) =>
      c.kind === 'column'
        ? {
            type: 'column',
            schema: 'main',
            table: c.table,
            pk: c.pk,
            column: 'c',
            value: c.value,
            hlc: at(op++),
            ...(c.prior ? { prior: { value: c.prior.value, hlc: makeHLC(c.prior.wall, 0, r.siteId, 0) } } : {}),
          }
        : {
            type: 'delete',
            schema: 'main',
            table: c.table,
            pk: c.pk,
            hlc: at(op++),
            ...(c.priorRow ? { priorRow: c.priorRow } : {}),
          },
    );
    const hlc = at(op === r.firstOpSeq ? r.firstOpSeq : op - 1);
    return { siteId: r.siteId, transactionId: transactionIdOf(hlc), hlc, changes, schemaMigrations };
  });

describe('ChangeSet round trip (property)', () => {
  it('decode(parse(stringify(encode(cs)))) equals cs, and re-encoding is stable', () => {
    fc.assert(
      fc.property(arbChangeSet, (cs) => {
        const text = JSON.stringify(encodeChangeSet(cs));
        const back = decodeChangeSet(JSON.parse(text));
        expect(back).toEqual(cs);
        expect(JSON.stringify(encodeChangeSet(back))).toBe(text);
        expect(encodeHLC(back.hlc)).toBe(JSON.parse(text).hlc);
      }),
      { numRuns: 300 },
    );
  });
});
