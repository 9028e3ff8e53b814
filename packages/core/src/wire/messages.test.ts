import { describe, expect, it } from 'vitest';
import { decodeHLC, makeHLC } from '../clock/hlc.js';
import { decodeSiteId, newSiteId } from '../clock/site-id.js';
import { transactionIdOf } from '../clock/transaction-id.js';
import { decodeChangeSet } from './change-set.js';
import {
  decodeApplyChanges,
  decodeGetChanges,
  decodeHandshake,
  decodeResumeSnapshot,
  encodeClientMessage,
  type ClientMessage,
} from './client-messages.js';
import { ERROR_CODES, type ErrorCode } from './error-codes.js';
import { parseMessage } from './parse-message.js';
import { decodeServerMessage, encodeServerMessage, errorMessage, type ServerMessage } from './server-messages.js';
import { decodeCheckpoint } from './snapshot.js';
import { PROTOCOL_VERSION, type ChangeSet } from './types.js';
import { WireError } from './wire-error.js';

const SITE = 'bxwqnkt9TBqOPwARIjNEVQ';
const SERVER_SITE = 'CgsMDQ4PQBCAkKCwwNDg8A';
const SINCE = 'AAABkADHoNIAAMPS4fChskw9no96a1xNPi8AAAAC';
// A ChangeSet carrying a blob, a bigint and a before-image: plain JSON.stringify would throw on it.
const SET: ChangeSet = (() => {
  const siteId = newSiteId();
  const at = (opSeq: number) => makeHLC(1718000001234n, 0, siteId, opSeq);
  return {
    siteId,
    transactionId: transactionIdOf(at(0)),
    hlc: at(1),
    changes: [
      {
        type: 'column',
        schema: 'main',
        table: 't',
        pk: [9n],
        column: 'b',
        value: Uint8Array.from([1, 2, 3]),
        hlc: at(0),
      },
      { type: 'delete', schema: 'main', table: 't', pk: [1], hlc: at(1), priorRow: [1, 2n ** 64n] },
    ],
    schemaMigrations: [],
  };
})();
const decodedSet = (): ChangeSet =>
  decodeChangeSet(JSON.parse(encodeServerMessage({ type: 'changes', changeSets: [SET] })).changeSets[0]);
const CHECKPOINT = {
  snapshotId: '0f8e2d4c-…-uuid',
  siteId: SITE,
  hlc: 'AAABkADHr4gAAAoLDA0OD0AQgJCgsMDQ4PAAAAAA',
  lastTableIndex: 1,
  lastEntryIndex: 4000,
  completedTables: ['main.notes'],
  entriesProcessed: 4000,
  createdAt: 1718000100000,
};

describe('parseMessage', () => {
  it.each([
    ['invalid JSON', '{"type":', /^Invalid JSON/],
    ['an empty frame', '', /^Invalid JSON/],
    ['an array', '[{"type":"ping"}]', /must be a JSON object, got an array/],
    ['null', 'null', /must be a JSON object, got null/],
    ['a number', '5', /must be a JSON object, got 5/],
    ['a missing type', '{"databaseId":"x"}', /needs a string "type", got undefined/],
    ['a numeric type', '{"type":5}', /needs a string "type", got 5/],
  ])('rejects %s', (_name, text, message) => {
    expect(() => parseMessage(text)).toThrow(WireError);
    expect(() => parseMessage(text)).toThrow(message);
  });

  it('returns the type and the raw object', () => {
    expect(parseMessage('{"type":"ping","x":1}')).toEqual({ type: 'ping', raw: { type: 'ping', x: 1 } });
  });

  it('copes with very deep nesting in an ignored field (JSON.parse is not recursive)', () => {
    const deep = '['.repeat(100_000) + ']'.repeat(100_000);
    expect(parseMessage(`{"type":"ping","junk":${deep}}`).type).toBe('ping');
  });
});

describe('client → server (PROTOCOL.md §3.2)', () => {
  it('encodes the protocol examples byte for byte', () => {
    expect(
      encodeClientMessage({
        type: 'handshake',
        databaseId: 'acme:notes',
        siteId: decodeSiteId(SITE),
        token: 'secret1',
        protocolVersion: PROTOCOL_VERSION,
      }),
    ).toBe(`{"type":"handshake","databaseId":"acme:notes","siteId":"${SITE}","token":"secret1","protocolVersion":1}`);
    expect(
      encodeClientMessage({
        type: 'handshake',
        databaseId: 'acme:notes',
        siteId: decodeSiteId(SITE),
        protocolVersion: 1,
      }),
    ).toBe(`{"type":"handshake","databaseId":"acme:notes","siteId":"${SITE}","protocolVersion":1}`);
    expect(encodeClientMessage({ type: 'get_changes', sinceHLC: decodeHLC(SINCE) })).toBe(
      `{"type":"get_changes","sinceHLC":"${SINCE}"}`,
    );
    expect(encodeClientMessage({ type: 'get_snapshot' })).toBe('{"type":"get_snapshot"}');
    expect(encodeClientMessage({ type: 'get_changes' })).toBe('{"type":"get_changes"}');
    expect(encodeClientMessage({ type: 'ping' })).toBe('{"type":"ping"}');
  });

  it('round-trips every client message through parseMessage and the per-type decoders', () => {
    const set = decodedSet();
    const checkpoint = decodeCheckpoint(CHECKPOINT);
    const cases: ClientMessage[] = [
      { type: 'get_changes', sinceHLC: decodeHLC(SINCE) },
      { type: 'apply_changes', requestId: 'apply-7', changeSets: [set] },
      { type: 'apply_changes', changeSets: [] },
      { type: 'resume_snapshot', checkpoint },
    ];
    const decoders = {
      get_changes: decodeGetChanges,
      apply_changes: decodeApplyChanges,
      resume_snapshot: decodeResumeSnapshot,
    };
    for (const msg of cases) {
      const { type, raw } = parseMessage(encodeClientMessage(msg));
      expect(type).toBe(msg.type);
      const { type: _t, ...fields } = msg;
      expect(decoders[type as keyof typeof decoders](raw)).toEqual(fields);
    }
  });

  it('decodeHandshake never throws and types only what is safe', () => {
    const siteId = decodeSiteId(SITE);
    const { raw } = parseMessage(
      encodeClientMessage({ type: 'handshake', databaseId: 'acme:notes', siteId, token: 't', protocolVersion: 1 }),
    );
    expect(decodeHandshake(raw)).toEqual({ protocolVersion: 1, databaseId: 'acme:notes', siteId: SITE, token: 't' });
    expect(decodeHandshake({ type: 'handshake' })).toEqual({
      protocolVersion: undefined,
      databaseId: undefined,
      siteId: undefined,
    });
    const odd = decodeHandshake({ type: 'handshake', protocolVersion: '1', databaseId: 5, siteId: [], token: 42 });
    expect(odd).toEqual({ protocolVersion: '1', databaseId: 5, siteId: [] });
    expect(odd).not.toHaveProperty('token');
  });

  it.each([[undefined], [null], ['']])('get_changes with sinceHLC %j means from zero', (since) => {
    expect(decodeGetChanges({ type: 'get_changes', sinceHLC: since })).toEqual({});
  });

  it.each([
    [5, /^sinceHLC must be a base64 string/],
    ['AAAA', /^sinceHLC must be 40 base64 characters/],
    [SINCE.replace('A', '*'), /^sinceHLC: invalid base64 character/],
  ])('get_changes rejects sinceHLC %j', (since, message) => {
    expect(() => decodeGetChanges({ type: 'get_changes', sinceHLC: since })).toThrow(message);
  });

  it.each<[string | number]>([['apply-7'], [''], [7], [0], [1.5], [-3]])('echoes requestId %j exactly', (requestId) => {
    const { raw } = parseMessage(JSON.stringify({ type: 'apply_changes', requestId, changes: [] }));
    const decoded = decodeApplyChanges(raw);
    expect(decoded.requestId).toBe(requestId);
    const ack = encodeServerMessage({
      type: 'apply_result',
      requestId: decoded.requestId,
      applied: 0,
      skipped: 0,
      conflicts: 0,
      transactions: 0,
    });
    expect(JSON.parse(ack).requestId).toBe(requestId);
    expect(ack).toContain(`"requestId":${JSON.stringify(requestId)}`);
  });

  it.each([[null], [true], [{}], [['apply-1']]])('rejects requestId %j', (requestId) => {
    expect(() => decodeApplyChanges({ type: 'apply_changes', requestId, changes: [] })).toThrow(
      /^requestId must be a string or a number/,
    );
  });

  it.each([
    ['missing changes', { type: 'apply_changes' }, /^changes must be an array, got undefined/],
    ['changes an object', { type: 'apply_changes', changes: {} }, /^changes must be an array/],
    ['a bad set', { type: 'apply_changes', changes: [{}] }, /^changes\[0\]\.siteId must be a string/],
    [
      'a bad change deep inside',
      {
        type: 'apply_changes',
        changes: [{ ...JSON.parse(JSON.stringify(encodeServerMessagePayload())), changes: [{ type: 'x' }] }],
      },
      /^changes\[0\]\.changes\[0\]\.type must be "column" or "delete", got "x"/,
    ],
  ])('apply_changes rejects %s', (_name, raw, message) => {
    expect(() => decodeApplyChanges(raw as Record<string, unknown>)).toThrow(WireError);
    expect(() => decodeApplyChanges(raw as Record<string, unknown>)).toThrow(message);
  });

  it('ignores unknown extra fields', () => {
    const { raw } = parseMessage(
      JSON.stringify({ type: 'apply_changes', changes: [encodeServerMessagePayload()], extra: { a: 1 } }),
    );
    expect(decodeApplyChanges(raw)).toEqual({ changeSets: [decodedSet()] });
    expect(decodeGetChanges({ type: 'get_changes', hint: 'x' })).toEqual({});
  });

  it('resume_snapshot requires a valid checkpoint', () => {
    expect(() => decodeResumeSnapshot({ type: 'resume_snapshot' })).toThrow(/^checkpoint must be an object/);
    expect(() => decodeResumeSnapshot({ type: 'resume_snapshot', checkpoint: { ...CHECKPOINT, hlc: 'x' } })).toThrow(
      /^checkpoint\.hlc/,
    );
  });
});

/** The wire JSON of SET, as a client would put it in `changes`. */
function encodeServerMessagePayload(): unknown {
  return JSON.parse(encodeServerMessage({ type: 'changes', changeSets: [SET] })).changeSets[0];
}

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
      { type: 'pong' },
      { type: 'request_changes' },
      { type: 'request_changes', siteId: serverSiteId, sinceHLC: decodeHLC(SINCE) },
    ];
    for (const msg of cases) expect(decodeServerMessage(encodeServerMessage(msg))).toEqual(msg);
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
