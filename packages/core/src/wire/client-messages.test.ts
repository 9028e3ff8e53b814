import { describe, expect, it } from 'vitest';
import { decodeHLC } from '../clock/hlc.js';
import { decodeSiteId } from '../clock/site-id.js';
import {
  decodeApplyChanges,
  decodeGetChanges,
  decodeHandshake,
  decodeResumeSnapshot,
  encodeClientMessage,
  type ClientMessage,
} from './client-messages.js';
import { parseMessage } from './parse-message.js';
import { encodeServerMessage } from './server-messages.js';
import { decodeCheckpoint } from './snapshot.js';
import { PROTOCOL_VERSION } from './types.js';
import { WireError } from './wire-error.js';
import { CHECKPOINT, decodedSet, SET, SINCE, SITE } from '../../test/wire-fixtures.js';

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
