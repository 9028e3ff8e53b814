import { describe, expect, it } from 'vitest';
import { toHex } from '../clock/bytes.js';
import { makeHLC } from '../clock/hlc.js';
import { encodeSiteId, newSiteId } from '../clock/site-id.js';
import {
  assertSnapshotFormat,
  decodeCheckpoint,
  decodeSnapshotChunk,
  encodeCheckpoint,
  encodeSnapshotChunk,
} from './snapshot.js';
import type { SnapshotChunk } from './types.js';
import { WireError } from './wire-error.js';

// PROTOCOL.md §5.2, verbatim; the migration placeholder is filled with the §2 example.
const CHUNKS = [
  `{"type":"header","siteId":"CgsMDQ4PQBCAkKCwwNDg8A","hlc":"AAABkADHr4gAAAoLDA0OD0AQgJCgsMDQ4PAAAAAA",
 "snapshotFormat":1,"tableCount":2,"migrationCount":3,"snapshotId":"0f8e2d4c-…-uuid"}`,
  `{"type":"schema-migration","migration":{ "type": "create_table", "schema": "main", "table": "notes",
  "ddl": "create table notes (id integer primary key, title text, body blob)",
  "hlc": "AAABkADHnAAAAG8cKp5LfUwajj8AESIzRFUAAAAA", "schemaVersion": 1 }}`,
  `{"type":"table-start","schema":"main","table":"notes","estimatedEntries":0}`,
  `{"type":"column-versions","schema":"main","table":"notes","entries":[
   {"column":"title","hlc":"AAABkADHoNIAAMPS4fChskw9no96a1xNPi8AAAAB","value":"hello","pk":[42]}]}`,
  `{"type":"table-end","schema":"main","table":"notes","entriesWritten":3}`,
  `{"type":"tombstone","schema":"main","table":"tags","entries":[
   {"pk":[7],"hlc":"AAABkADHnAAAA28cKp5LfUwajj8AESIzRFUAAAAC","createdAt":1718000002000,"priorRow":[7,"x"]}]}`,
  `{"type":"footer","snapshotId":"0f8e2d4c-…-uuid","totalTables":2,"totalEntries":5400,"totalMigrations":3}`,
];
// PROTOCOL.md §5.3, verbatim.
const CHECKPOINT = `{"snapshotId":"0f8e2d4c-…-uuid","siteId":"bxwqnkt9TBqOPwARIjNEVQ",
 "hlc":"AAABkADHr4gAAAoLDA0OD0AQgJCgsMDQ4PAAAAAA","lastTableIndex":1,"lastEntryIndex":4000,
 "completedTables":["main.notes"],"entriesProcessed":4000,"createdAt":1718000100000}`;

const canonical = (text: string): string => JSON.stringify(JSON.parse(text));
type Json = Record<string, unknown>;

describe('snapshot chunk golden vectors (PROTOCOL.md §5.2)', () => {
  it.each(CHUNKS.map((c) => [(JSON.parse(c) as Json)['type'], c]))('round-trips %s byte for byte', (_type, text) => {
    expect(JSON.stringify(encodeSnapshotChunk(decodeSnapshotChunk(JSON.parse(text as string))))).toBe(
      canonical(text as string),
    );
  });

  it('decodes to what the examples claim', () => {
    const [header, migration, , versions, , tombstone] = CHUNKS.map((c) => decodeSnapshotChunk(JSON.parse(c)));
    expect(header).toMatchObject({ type: 'header', snapshotFormat: 1, tableCount: 2, migrationCount: 3 });
    if (header?.type !== 'header') throw new Error('header expected');
    expect(toHex(header.siteId)).toBe('0a0b0c0d0e0f40108090a0b0c0d0e0f0');
    expect(header.hlc).toEqual({ wallTime: 1718000005000n, counter: 0, siteId: header.siteId, opSeq: 0 });
    expect(migration).toMatchObject({
      type: 'schema-migration',
      migration: { type: 'create_table', schemaVersion: 1 },
    });
    expect(versions).toMatchObject({ entries: [{ column: 'title', value: 'hello', pk: [42] }] });
    if (versions?.type !== 'column-versions') throw new Error('column-versions expected');
    expect(versions.entries[0]?.hlc).toMatchObject({ wallTime: 1718000001234n, counter: 0, opSeq: 1 });
    expect(encodeSiteId(versions.entries[0]!.hlc.siteId)).toBe('w9Lh8KGyTD2ej3prXE0-Lw');
    expect(tombstone).toMatchObject({ entries: [{ pk: [7], createdAt: 1718000002000, priorRow: [7, 'x'] }] });
    if (tombstone?.type !== 'tombstone') throw new Error('tombstone expected');
    expect(tombstone.entries[0]?.hlc).toMatchObject({ wallTime: 1718000000000n, counter: 3, opSeq: 2 });
  });

  it('carries blobs and bigints in entries', () => {
    const chunk: SnapshotChunk = {
      type: 'column-versions',
      schema: 'main',
      table: 't',
      entries: [
        {
          pk: [Uint8Array.from([1, 2]), 9n],
          column: 'c',
          value: 2n ** 63n,
          hlc: makeHLC(2n ** 64n - 1n, 65535, newSiteId(), 2 ** 32 - 1),
        },
      ],
    };
    const text = JSON.stringify(encodeSnapshotChunk(chunk));
    expect(text).toContain('"pk":[{"__bin":"AQI="},{"__bigint":"9"}]');
    expect(decodeSnapshotChunk(JSON.parse(text))).toEqual(chunk);
  });

  it('keeps a tombstone without priorRow without one', () => {
    const json = {
      type: 'tombstone',
      schema: 'main',
      table: 't',
      entries: [{ pk: [1], hlc: 'AAABkADHnAAAA28cKp5LfUwajj8AESIzRFUAAAAC', createdAt: 0 }],
    };
    const chunk = decodeSnapshotChunk(json);
    expect(chunk.type === 'tombstone' && chunk.entries[0]).not.toHaveProperty('priorRow');
    expect(encodeSnapshotChunk(chunk)).toEqual(json);
  });
});

describe('snapshot format (PROTOCOL.md §8)', () => {
  it('decodes any numeric format and leaves the verdict to assertSnapshotFormat', () => {
    const header = decodeSnapshotChunk({ ...JSON.parse(CHUNKS[0]!), snapshotFormat: 2 });
    expect(header).toMatchObject({ snapshotFormat: 2 });
    expect(() => assertSnapshotFormat(header as { snapshotFormat: number })).toThrow(WireError);
    expect(() => assertSnapshotFormat(header as { snapshotFormat: number })).toThrow(/Unsupported snapshot format 2/);
    expect(() => assertSnapshotFormat({ snapshotFormat: 1 })).not.toThrow();
  });

  it.each([['"1"'], ['null'], ['true']])('rejects snapshotFormat %s', (v) => {
    const json = { ...JSON.parse(CHUNKS[0]!), snapshotFormat: JSON.parse(v) };
    expect(() => decodeSnapshotChunk(json)).toThrow(/chunk\.snapshotFormat must be a number/);
  });

  it('rejects a missing snapshotFormat', () => {
    const json = JSON.parse(CHUNKS[0]!) as Json;
    delete json['snapshotFormat'];
    expect(() => decodeSnapshotChunk(json)).toThrow(/chunk\.snapshotFormat must be a number/);
  });
});

describe('malformed chunks', () => {
  const patched = (i: number, patch: Json): Json => ({ ...(JSON.parse(CHUNKS[i]!) as Json), ...patch });
  const entry = (i: number, patch: Json): Json => {
    const json = JSON.parse(CHUNKS[i]!) as Json & { entries: Json[] };
    json.entries[0] = { ...json.entries[0], ...patch };
    return json;
  };
  it.each<[string, unknown, RegExp]>([
    ['not an object', [], /^chunk must be an object, got an array/],
    ['an unknown type', { type: 'trailer' }, /chunk\.type is not a snapshot chunk type: "trailer"/],
    ['a header with a bad site', patched(0, { siteId: 'CgsMDQ4PQBCAkKCwwNDg8' }), /chunk\.siteId must be 22/],
    ['a header with a bad hlc', patched(0, { hlc: 'AAAA' }), /chunk\.hlc must be 40 base64 characters/],
    ['a header with a negative tableCount', patched(0, { tableCount: -1 }), /chunk\.tableCount must be between 0/],
    ['a header without snapshotId', patched(0, { snapshotId: undefined }), /chunk\.snapshotId must be a string/],
    ['a header with a negative rowCount', patched(0, { rowCount: -1 }), /chunk\.rowCount must be between 0/],
    ['a header with a string rowCount', patched(0, { rowCount: '5' }), /chunk\.rowCount must be an integer/],
    [
      'a migration chunk with a bad migration',
      patched(1, { migration: { type: 'x' } }),
      /chunk\.migration\.type must be one of/,
    ],
    [
      'a table-start with a fractional estimate',
      patched(2, { estimatedEntries: 0.5 }),
      /estimatedEntries must be an integer/,
    ],
    ['column-versions without entries', patched(3, { entries: undefined }), /chunk\.entries must be an array/],
    ['a column entry without value', entry(3, { value: undefined }), /chunk\.entries\[0\]\.value is required/],
    ['a column entry with a bad pk', entry(3, { pk: 42 }), /chunk\.entries\[0\]\.pk must be an array/],
    ['a column entry with a bad hlc', entry(3, { hlc: 42 }), /chunk\.entries\[0\]\.hlc must be a base64 string/],
    ['a table-start with a lone surrogate', patched(2, { table: 'n\uD800' }), /chunk\.table must be well-formed/],
    [
      'a column entry with a lone surrogate',
      entry(3, { column: '\uDFFF' }),
      /entries\[0\]\.column must be well-formed/,
    ],
    ['a column entry with NUL', entry(3, { column: 'a\0' }), /entries\[0\]\.column must not contain NUL/],
    ['a tombstone with a lone surrogate schema', patched(5, { schema: '\uD800' }), /chunk\.schema must be well-formed/],
    ['a table-end with a string count', patched(4, { entriesWritten: '3' }), /entriesWritten must be an integer/],
    [
      'a tombstone with a fractional createdAt',
      entry(5, { createdAt: 1.5 }),
      /entries\[0\]\.createdAt must be an integer/,
    ],
    ['a tombstone with a bad priorRow', entry(5, { priorRow: {} }), /entries\[0\]\.priorRow must be an array/],
    ['a tombstone with a huge createdAt', entry(5, { createdAt: 1e300 }), /createdAt must be an integer/],
    ['a footer without totals', patched(6, { totalEntries: undefined }), /chunk\.totalEntries must be an integer/],
  ])('rejects %s', (_name, json, message) => {
    expect(() => decodeSnapshotChunk(json)).toThrow(WireError);
    expect(() => decodeSnapshotChunk(json)).toThrow(message);
  });
});

describe("the header's rowCount (Syncord's addition)", () => {
  it('round-trips when present and stays absent when the server did not send it', () => {
    const withRows = { ...(JSON.parse(CHUNKS[0]!) as Json), rowCount: 12 };
    expect(decodeSnapshotChunk(withRows)).toMatchObject({ type: 'header', rowCount: 12 });
    expect(encodeSnapshotChunk(decodeSnapshotChunk(withRows))).toEqual(withRows);
    expect(decodeSnapshotChunk(JSON.parse(CHUNKS[0]!))).not.toHaveProperty('rowCount');
  });
});

describe('checkpoint (PROTOCOL.md §5.3)', () => {
  it('round-trips the example byte for byte and decodes its claims', () => {
    const cp = decodeCheckpoint(JSON.parse(CHECKPOINT));
    expect(encodeSiteId(cp.siteId)).toBe('bxwqnkt9TBqOPwARIjNEVQ');
    expect(cp.hlc).toMatchObject({ wallTime: 1718000005000n, counter: 0, opSeq: 0 });
    expect(encodeSiteId(cp.hlc.siteId)).toBe('CgsMDQ4PQBCAkKCwwNDg8A');
    expect(cp.completedTables).toEqual(['main.notes']);
    expect(JSON.stringify(encodeCheckpoint(cp))).toBe(canonical(CHECKPOINT));
  });

  it('accepts -1 in the fields the server ignores', () => {
    const cp = decodeCheckpoint({ ...JSON.parse(CHECKPOINT), lastTableIndex: -1, lastEntryIndex: -1 });
    expect(cp).toMatchObject({ lastTableIndex: -1, lastEntryIndex: -1 });
  });

  const patched = (patch: Json): Json => ({ ...(JSON.parse(CHECKPOINT) as Json), ...patch });
  it.each<[string, unknown, RegExp]>([
    ['a string', 'x', /^checkpoint must be an object/],
    ['an empty snapshotId', patched({ snapshotId: '' }), /checkpoint\.snapshotId must not be empty/],
    ['a bad siteId', patched({ siteId: 'bxwqnkt9TBqOPwARIjNEV+' }), /checkpoint\.siteId must use the base64url/],
    ['a bad hlc', patched({ hlc: null }), /checkpoint\.hlc must be a base64 string/],
    ['completedTables not an array', patched({ completedTables: 'main.notes' }), /completedTables must be an array/],
    [
      'a numeric completed table',
      patched({ completedTables: [5] }),
      /checkpoint\.completedTables\[0\] must be a string/,
    ],
    [
      'a completed table with a lone surrogate',
      patched({ completedTables: ['main.\uD800'] }),
      /checkpoint\.completedTables\[0\] must be well-formed/,
    ],
    ['a negative entriesProcessed', patched({ entriesProcessed: -1 }), /entriesProcessed must be between 0/],
    ['a missing lastTableIndex', patched({ lastTableIndex: undefined }), /lastTableIndex must be an integer/],
    ['a NaN createdAt', patched({ createdAt: NaN }), /createdAt must be an integer, got NaN/],
  ])('rejects %s', (_name, json, message) => {
    expect(() => decodeCheckpoint(json)).toThrow(WireError);
    expect(() => decodeCheckpoint(json)).toThrow(message);
  });
});
