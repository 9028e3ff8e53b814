import { describe, expect, it } from 'vitest';
import { decodeHLC } from '../clock/hlc.js';
import { decodeSiteId } from '../clock/site-id.js';
import { ERROR_CODES, type ErrorCode } from './error-codes.js';
import { decodeServerMessage, encodeServerMessage, errorMessage, type ServerMessage } from './server-messages.js';
import { decodeCheckpoint } from './snapshot.js';
import { WireError } from './wire-error.js';
import { CHECKPOINT, decodedSet, SET, SINCE } from '../../test/wire-fixtures.js';

const SERVER_SITE = 'CgsMDQ4PQBCAkKCwwNDg8A';

describe('server → client (PROTOCOL.md §3.3)', () => {
  const serverSiteId = decodeSiteId(SERVER_SITE);

  it('encodes the protocol examples byte for byte', () => {
    expect(
      encodeServerMessage({
        type: 'handshake_ack',
        databaseId: 'acme:notes',
        serverSiteId,
        connectionId: '8d3c6f0e-2b1a-4f7e-9d2c-5a6b7c8d9e0f',
        protocolVersion: 1,
      }),
    ).toBe(
      '{"type":"handshake_ack","databaseId":"acme:notes","serverSiteId":"CgsMDQ4PQBCAkKCwwNDg8A","connectionId":"8d3c6f0e-2b1a-4f7e-9d2c-5a6b7c8d9e0f","protocolVersion":1}',
    );
    expect(encodeServerMessage({ type: 'changes', changeSets: [] })).toBe('{"type":"changes","changeSets":[]}');
    expect(
      encodeServerMessage({
        type: 'apply_result',
        requestId: 'apply-7',
        applied: 3,
        skipped: 0,
        conflicts: 0,
        transactions: 1,
      }),
    ).toBe('{"type":"apply_result","requestId":"apply-7","applied":3,"skipped":0,"conflicts":0,"transactions":1}');
    expect(
      encodeServerMessage({
        type: 'apply_result',
        requestId: 'apply-8',
        applied: 0,
        skipped: 0,
        conflicts: 0,
        transactions: 0,
        rejected: [{ reason: 'title too long', code: 'VALIDATION' }],
      }),
    ).toBe(
      '{"type":"apply_result","requestId":"apply-8","applied":0,"skipped":0,"conflicts":0,"transactions":0,"rejected":[{"reason":"title too long","code":"VALIDATION"}]}',
    );
    expect(encodeServerMessage(errorMessage('NOT_AUTHENTICATED', 'Must handshake first'))).toBe(
      '{"type":"error","code":"NOT_AUTHENTICATED","message":"Must handshake first","fatal":false}',
    );
    expect(encodeServerMessage({ type: 'snapshot_complete' })).toBe('{"type":"snapshot_complete"}');
    expect(encodeServerMessage({ type: 'pong' })).toBe('{"type":"pong"}');
  });

  it('omits requestId when undefined and rejected/unknownTable when absent', () => {
    const text = encodeServerMessage({
      type: 'apply_result',
      requestId: undefined,
      applied: 1,
      skipped: 2,
      conflicts: 3,
      transactions: 4,
    });
    expect(text).toBe('{"type":"apply_result","applied":1,"skipped":2,"conflicts":3,"transactions":4}');
    expect(
      encodeServerMessage({
        type: 'apply_result',
        applied: 0,
        skipped: 0,
        conflicts: 0,
        transactions: 0,
        unknownTable: true,
      }),
    ).toContain('"transactions":0,"unknownTable":true}');
  });

  it.each(Object.keys(ERROR_CODES) as ErrorCode[])('error %s always carries its boolean fatal flag', (code) => {
    const json = JSON.parse(encodeServerMessage(errorMessage(code, 'm')));
    expect(json.fatal).toBe(ERROR_CODES[code].fatal);
    expect(decodeServerMessage(encodeServerMessage(errorMessage(code, 'm')))).toEqual(errorMessage(code, 'm'));
  });

  it('serialises sets with blobs and bigints (the reference crashed here) and decodes them back', () => {
    const text = encodeServerMessage({ type: 'push_changes', changeSets: [SET] });
    expect(text).toContain('"pk":[{"__bigint":"9"}]');
    expect(text).toContain('"value":{"__bin":"AQID"}');
    expect(text).toContain('{"__bigint":"18446744073709551616"}');
    expect(decodeServerMessage(text)).toEqual({ type: 'push_changes', changeSets: [SET] });
  });

  it('round-trips every server message', () => {
    const set = decodedSet();
    const checkpoint = decodeCheckpoint(CHECKPOINT);
    const cases: ServerMessage[] = [
      { type: 'handshake_ack', serverSiteId, protocolVersion: 1 },
      { type: 'handshake_ack', databaseId: 'd', serverSiteId, connectionId: 'c', protocolVersion: 1 },
      { type: 'changes', changeSets: [set, set] },
      { type: 'changes', changeSets: [set], more: true },
      { type: 'push_changes', changeSets: [set] },
      { type: 'apply_result', requestId: 3, applied: 1, skipped: 0, conflicts: 2, transactions: 1 },
      {
        type: 'apply_result',
        applied: 0,
        skipped: 0,
        conflicts: 0,
        transactions: 1,
        unknownTable: false,
        rejected: [{ reason: 'r', code: 'C', table: 't', column: 'c' }, { reason: 'only a reason' }],
      },
      { type: 'snapshot_chunk', chunk: { type: 'table-start', schema: 'main', table: 'notes', estimatedEntries: 0 } },
      {
        type: 'snapshot_chunk',
        chunk: {
          type: 'header',
          siteId: serverSiteId,
          hlc: checkpoint.hlc,
          snapshotFormat: 1,
          tableCount: 0,
          migrationCount: 0,
          snapshotId: 's',
        },
      },
      { type: 'snapshot_complete' },
      { type: 'error', code: 'SOMETHING_NEW', message: 'from another server', fatal: true },
      { type: 'error', code: 'RATE_LIMITED', message: 'slow down', fatal: false, requestId: 'apply-9' },
      { type: 'pong' },
      { type: 'request_changes' },
      { type: 'request_changes', siteId: serverSiteId, sinceHLC: decodeHLC(SINCE) },
    ];
    for (const msg of cases) expect(decodeServerMessage(encodeServerMessage(msg))).toEqual(msg);
  });

  it('writes `more` only when the server pages, and requestId on an error only when given', () => {
    expect(encodeServerMessage({ type: 'changes', changeSets: [] })).toBe('{"type":"changes","changeSets":[]}');
    expect(encodeServerMessage({ type: 'changes', changeSets: [], more: false })).toBe(
      '{"type":"changes","changeSets":[],"more":false}',
    );
    expect(decodeServerMessage('{"type":"changes","changeSets":[],"more":false}')).toEqual({
      type: 'changes',
      changeSets: [],
      more: false,
    });
    expect(encodeServerMessage({ type: 'changes', changeSets: [], more: true })).toBe(
      '{"type":"changes","changeSets":[],"more":true}',
    );
    expect(decodeServerMessage('{"type":"push_changes","changeSets":[],"more":true}')).toEqual({
      type: 'push_changes',
      changeSets: [],
    });
    expect(encodeServerMessage({ ...errorMessage('RATE_LIMITED', 'm'), requestId: 'apply-2' })).toBe(
      '{"type":"error","code":"RATE_LIMITED","message":"m","fatal":false,"requestId":"apply-2"}',
    );
  });

  it('returns unknown types instead of throwing', () => {
    expect(decodeServerMessage('{"type":"server_notice","text":"hi"}')).toEqual({
      type: 'unknown',
      raw: { type: 'server_notice', text: 'hi' },
    });
  });

  it('applies the real client fallback when fatal is missing', () => {
    for (const code of ['AUTH_FAILED', 'MISSING_DATABASE_ID', 'ALREADY_AUTHENTICATED']) {
      expect(decodeServerMessage(JSON.stringify({ type: 'error', code, message: 'm' }))).toMatchObject({ fatal: true });
    }
    for (const code of ['PROTOCOL_VERSION_MISMATCH', 'SNAPSHOT_ERROR', 'X']) {
      expect(decodeServerMessage(JSON.stringify({ type: 'error', code, message: 'm' }))).toMatchObject({
        fatal: false,
      });
    }
    expect(decodeServerMessage('{"type":"error","code":"AUTH_FAILED","message":"m","fatal":false}')).toMatchObject({
      fatal: false,
    });
  });

  it('ignores unknown extra fields and malformed echo fields', () => {
    const ack = decodeServerMessage(
      `{"type":"handshake_ack","serverSiteId":"${SERVER_SITE}","protocolVersion":1,"databaseId":7,"extra":[1]}`,
    );
    expect(ack).toEqual({ type: 'handshake_ack', serverSiteId, protocolVersion: 1 });
    expect(decodeServerMessage('{"type":"pong","at":1}')).toEqual({ type: 'pong' });
  });

  it.each([
    ['invalid JSON', '{', /^Invalid JSON/],
    ['an ack without serverSiteId', '{"type":"handshake_ack","protocolVersion":1}', /^serverSiteId must be a string/],
    [
      'an ack without protocolVersion',
      `{"type":"handshake_ack","serverSiteId":"${SERVER_SITE}"}`,
      /^protocolVersion must be a number/,
    ],
    ['changes without changeSets', '{"type":"changes"}', /^changeSets must be an array/],
    ['push_changes with a bad set', '{"type":"push_changes","changeSets":[5]}', /^changeSets\[0\] must be an object/],
    [
      'apply_result with a string count',
      '{"type":"apply_result","applied":"1","skipped":0,"conflicts":0,"transactions":0}',
      /^applied must be an integer/,
    ],
    [
      'apply_result with a bad requestId',
      '{"type":"apply_result","requestId":{},"applied":1,"skipped":0,"conflicts":0,"transactions":0}',
      /^requestId must be a string or a number/,
    ],
    [
      'apply_result with a bad rejection',
      '{"type":"apply_result","applied":0,"skipped":0,"conflicts":0,"transactions":0,"rejected":[{}]}',
      /^rejected\[0\]\.reason must be a string/,
    ],
    [
      'apply_result with a bad unknownTable',
      '{"type":"apply_result","applied":0,"skipped":0,"conflicts":0,"transactions":0,"unknownTable":1}',
      /^unknownTable must be a boolean/,
    ],
    ['a snapshot_chunk without chunk', '{"type":"snapshot_chunk"}', /^chunk must be an object/],
    ['an error without code', '{"type":"error","message":"m"}', /^code must be a string/],
    ['request_changes with a bad siteId', '{"type":"request_changes","siteId":"x"}', /^siteId must be 22/],
  ])('rejects %s', (_name, text, message) => {
    expect(() => decodeServerMessage(text)).toThrow(WireError);
    expect(() => decodeServerMessage(text)).toThrow(message);
  });
});
