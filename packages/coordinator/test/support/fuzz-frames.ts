// Generators of WebSocket frames for the fuzz test: well-formed messages of every type, the same
// mutated, fields of the wrong kind, truncated, non-object, unknown types, deep JSON, binary,
// non-UTF-8 and oversize frames, grouped into the frames of one socket.
import { encodeCheckpoint, encodeSiteId } from '@syncord/core';
import fc from 'fast-check';
import { BASE_WALL, deleteRow, wire, writeRow } from './change-sets.js';
import { describeFrame, KNOWN_TYPES, type Frame, type FuzzTarget } from './fuzz-oracle.js';
import {
  badBase64Arb,
  hlcArb,
  hlcValueArb,
  mutationArb,
  mutate,
  render,
  siteArb,
  sqlValueArb,
  weirdArb,
} from './fuzz-values.js';

/** A well-formed apply_changes: 1–3 transactions of column writes or a delete, in the past. */
const validApplyArb = fc
  .record({
    requestId: fc.option(fc.oneof(fc.string({ maxLength: 12 }), fc.integer()), { nil: undefined }),
    sets: fc.array(
      fc.record({
        site: siteArb,
        table: fc.constantFrom('notes', 'tags', 't'),
        pk: fc.array(sqlValueArb, { minLength: 1, maxLength: 2 }),
        columns: fc.dictionary(fc.constantFrom('a', 'b', 'title', 'id'), sqlValueArb, { minKeys: 1, maxKeys: 3 }),
        delete: fc.boolean(),
        wall: fc.integer({ min: 0, max: 1_000_000 }),
      }),
      { minLength: 1, maxLength: 3 },
    ),
  })
  .map(({ requestId, sets }) => ({
    type: 'apply_changes',
    ...(requestId === undefined ? {} : { requestId }),
    changes: sets.map((s) =>
      wire(
        s.delete
          ? deleteRow(s.site, s.table, s.pk, { wall: BASE_WALL + BigInt(s.wall) })
          : writeRow(s.site, s.table, s.pk, s.columns, { wall: BASE_WALL + BigInt(s.wall) }),
      ),
    ),
  }));

/** Handshakes to the guarded or scratch databases, or with a bad or falsy id, site id or version. */
function handshakeArb(target: FuzzTarget): fc.Arbitrary<Record<string, unknown>> {
  const badId = fc.oneof(
    fc.string({ maxLength: 20 }).map((s) => `${s} /`),
    fc.constant('a'.repeat(target.maxDatabaseIdLength + 1)),
    fc.constantFrom('', 'acme/notes', '../etc', 'ü', 'a b'),
  );
  return fc.record(
    {
      type: fc.constant('handshake'),
      // Falsy ids (MISSING_DATABASE_ID) are checked before the site id and the id's form.
      databaseId: fc.oneof(
        { arbitrary: fc.constantFrom(...target.guarded, target.scratch), weight: 2 },
        { arbitrary: badId, weight: 1 },
        { arbitrary: fc.constantFrom<unknown>('', 0, null, false, undefined), weight: 1 },
      ),
      siteId: fc.oneof(siteArb.map(encodeSiteId), badBase64Arb),
      token: fc.string({ maxLength: 8 }),
      protocolVersion: fc.oneof({ arbitrary: fc.constant(1), weight: 5 }, fc.constantFrom(0, 2, '1', 1.5, null)),
    },
    { requiredKeys: ['type', 'databaseId', 'siteId', 'protocolVersion'] },
  );
}

const checkpointArb = fc
  .record({
    snapshotId: fc.uuid(),
    siteId: siteArb,
    hlc: hlcValueArb,
    lastTableIndex: fc.integer(),
    lastEntryIndex: fc.integer(),
    completedTables: fc.array(fc.constantFrom('main.notes', 'main.tags', 'x.y'), { maxLength: 2 }),
    entriesProcessed: fc.nat(),
    createdAt: fc.nat(),
  })
  .map((c) => encodeCheckpoint(c));

/** Well-formed messages of every type. */
function validArb(target: FuzzTarget): fc.Arbitrary<Record<string, unknown>> {
  return fc.oneof(
    fc.constant({ type: 'ping' }),
    fc.constant({ type: 'get_snapshot' }),
    fc.option(hlcArb, { nil: undefined }).map((since) => ({
      type: 'get_changes',
      ...(since === undefined ? {} : { sinceHLC: since }),
    })),
    validApplyArb,
    checkpointArb.map((checkpoint) => ({ type: 'resume_snapshot', checkpoint })),
    handshakeArb(target),
  );
}

function printable(frame: Frame): Frame {
  return Object.defineProperty(frame, fc.toStringMethod, { value: () => describeFrame(frame) });
}

const text = (t: string): Frame => ({ kind: 'text', text: t });

/** One hostile (or, sometimes, well-formed) frame. */
export function frameArb(target: FuzzTarget): fc.Arbitrary<Frame> {
  const valid = validArb(target);
  return fc
    .oneof(
      { arbitrary: valid.map((m) => text(render(m))), weight: 24 },
      {
        arbitrary: fc
          .tuple(valid, fc.array(mutationArb, { minLength: 1, maxLength: 3 }))
          .map(([m, muts]) => text(render(mutate(m, muts)))),
        weight: 40,
      },
      {
        // A known type with fields of the wrong kind.
        arbitrary: fc
          .record({
            type: fc.constantFrom(...KNOWN_TYPES),
            fields: fc.dictionary(
              fc.constantFrom(
                'databaseId',
                'siteId',
                'protocolVersion',
                'token',
                'sinceHLC',
                'changes',
                'requestId',
                'checkpoint',
              ),
              weirdArb,
            ),
          })
          .map(({ type, fields }) => text(render({ ...fields, type }))),
        weight: 24,
      },
      {
        // Truncated: every proper prefix of a JSON object is invalid JSON.
        arbitrary: fc.tuple(valid, fc.nat()).map(([m, n]) => {
          const full = render(m);
          return text(full.slice(0, n % full.length));
        }),
        weight: 12,
      },
      {
        arbitrary: fc
          .oneof(
            fc.constantFrom(
              '',
              ' ',
              'null',
              '[]',
              '1',
              '"ping"',
              '{}',
              '{"type":5}',
              '{"type":null}',
              '{"type":["ping"]}',
            ),
            fc.string({ maxLength: 50 }),
            fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v)),
          )
          .map(text),
        weight: 12,
      },
      {
        // Unknown types, prototype keys among them.
        arbitrary: fc
          .oneof(
            fc.constantFrom('__proto__', 'constructor', 'toString', 'hasOwnProperty', 'PING', 'handshake ', ''),
            fc.string({ maxLength: 10 }),
            fc.constant('t'.repeat(10_000)),
          )
          .filter((t) => !KNOWN_TYPES.includes(t))
          .map((type) => text(JSON.stringify({ type }))),
        weight: 8,
      },
      {
        // Deep JSON where a field goes, and as an ignored extra field of a ping.
        arbitrary: fc
          .constantFrom<unknown>(
            { type: 'ping', extra: '@@deep-array@@' },
            { type: 'apply_changes', changes: '@@deep-array@@' },
            { type: 'apply_changes', requestId: '@@deep-object@@', changes: [] },
            { type: 'handshake', protocolVersion: '@@deep-array@@', databaseId: 'x', siteId: 'y' },
            { type: 'get_changes', sinceHLC: '@@deep-object@@' },
            { type: 'resume_snapshot', checkpoint: '@@deep-object@@' },
            '@@deep-array@@',
          )
          .map((m) => text(render(m))),
        weight: 4,
      },
      {
        arbitrary: fc
          .oneof(
            fc.uint8Array({ maxLength: 64 }),
            valid.map((m) => new TextEncoder().encode(render(m))),
          )
          .map((bytes): Frame => ({ kind: 'binary', bytes })),
        weight: 8,
      },
      {
        arbitrary: fc
          .tuple(fc.uint8Array({ maxLength: 16 }), fc.constantFrom([0xff], [0xc3, 0x28], [0xed, 0xa0, 0x80], [0xf8]))
          .map(([prefix, bad]): Frame => ({ kind: 'invalid-utf8', bytes: new Uint8Array([...prefix, ...bad]) })),
        weight: 1,
      },
      { arbitrary: fc.integer({ min: 1, max: 4096 }).map((extra): Frame => ({ kind: 'oversize', extra })), weight: 2 },
    )
    .map(printable);
}

/** A handshake that succeeds, mostly on a guarded database. */
function helloArb(target: FuzzTarget): fc.Arbitrary<Frame> {
  return fc
    .record({
      databaseId: fc.oneof({ arbitrary: fc.constantFrom(...target.guarded), weight: 3 }, fc.constant(target.scratch)),
      siteId: siteArb.map(encodeSiteId),
    })
    .map((fields) => printable(text(JSON.stringify({ type: 'handshake', ...fields, protocolVersion: 1 }))));
}

/**
 * The frames of one socket: most runs start with a good handshake, so the hostile frames after it
 * reach the operations and not only NOT_AUTHENTICATED; some start with a hostile handshake, which
 * alone reaches the checks that come after "already authenticated" (§3.5).
 */
export function runArb(target: FuzzTarget, maxLength = 12): fc.Arbitrary<Frame[]> {
  const hostileHello = handshakeArb(target).map((m) => printable(text(render(m))));
  return fc
    .tuple(
      fc.oneof(
        { arbitrary: fc.constant(undefined), weight: 1 },
        { arbitrary: helloArb(target), weight: 3 },
        { arbitrary: hostileHello, weight: 2 },
      ),
      fc.array(frameArb(target), { minLength: 1, maxLength }),
    )
    .map(([hello, frames]) => (hello ? [hello, ...frames] : frames));
}
