// Hostile HTTP requests for the fuzz test and the status and code each must get (PROTOCOL.md §4):
// Fastify's body checks first (size 413, media type 415, JSON 400), then databaseId (400), then
// authentication (401), then the operation. Well-formedness is judged by the core decoders.
import { decodeApplyChanges, decodeGetChanges, decodeSiteId, encodeSiteId } from '@syncord/core';
import fc from 'fast-check';
import { BASE_WALL, wire, writeRow } from './change-sets.js';
import { fails, validDatabaseId, type FuzzTarget } from './fuzz-oracle.js';
import { badBase64Arb, hlcArb } from './fuzz-values.js';

export interface FuzzRequest {
  readonly method: 'GET' | 'POST';
  readonly route: 'changes' | 'snapshot';
  readonly databaseId: string;
  readonly siteId?: string;
  readonly sinceHLC?: string;
  readonly contentType?: string;
  readonly body?: string;
}

export interface HttpExpectation {
  /** Acceptable `status code` pairs, e.g. `400 INVALID_BODY`, `200 ok`. */
  readonly accept: readonly string[];
  /** A well-formed apply aimed at a guarded database: send it to the scratch database instead. */
  readonly divert?: boolean;
}

function parsedBody(req: FuzzRequest): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(req.body ?? '') as unknown };
  } catch {
    return { ok: false };
  }
}

export function expectHttp(req: FuzzRequest, target: FuzzTarget, maxBodyBytes: number): HttpExpectation {
  const one = (s: string): HttpExpectation => ({ accept: [s] });
  if (req.method === 'POST') {
    const type = req.contentType ?? '';
    const bytes = Buffer.byteLength(req.body ?? '');
    const isJson = /^application\/json\b/.test(type);
    const known = isJson || /^text\/plain\b/.test(type);
    if (bytes > maxBodyBytes)
      return known ? one('413 INVALID_BODY') : { accept: ['413 INVALID_BODY', '415 INVALID_BODY'] };
    if (!known) return one('415 INVALID_BODY');
    if (isJson && !parsedBody(req).ok) return one('400 INVALID_BODY');
    // Fastify refuses __proto__ / constructor keys (prototype poisoning) as a bad body, up front.
    if (isJson && /"(__proto__|constructor)"\s*:/.test(req.body ?? '')) {
      return { accept: ['400 INVALID_BODY', '400 INVALID_DATABASE_ID', '401 AUTH_FAILED'] };
    }
  }
  if (!validDatabaseId(req.databaseId, target)) {
    return one('400 INVALID_DATABASE_ID');
  }
  if (req.siteId === undefined || fails(() => decodeSiteId(req.siteId))) return one('401 AUTH_FAILED');
  if (req.route === 'snapshot') return one('200 ok');
  if (req.method === 'GET') {
    const since = req.sinceHLC?.replaceAll(' ', '+');
    if (fails(() => decodeGetChanges(since === undefined ? {} : { sinceHLC: since }))) {
      return one('400 GET_CHANGES_FAILED');
    }
    return { accept: ['200 ok', '410 RESYNC_REQUIRED'] };
  }
  const body = parsedBody(req);
  const object = body.ok && typeof body.value === 'object' && body.value !== null && !Array.isArray(body.value);
  if (!/^application\/json\b/.test(req.contentType ?? '') || !object) return one('400 INVALID_BODY');
  if (fails(() => decodeApplyChanges(body.value as Record<string, unknown>))) return one('400 INVALID_BODY');
  return {
    accept: ['200 ok', '400 APPLY_CHANGES_FAILED', '413 APPLY_CHANGES_FAILED', '500 APPLY_CHANGES_FAILED'],
    divert: target.guarded.includes(req.databaseId),
  };
}

/** Printable ASCII only: fetch refuses other header bytes before anything is sent. */
const headerSafe = (s: string) => /^[\x21-\x7e]*$/.test(s);

const siteArb = fc.uint8Array({ minLength: 16, maxLength: 16 });
const siteHeaderArb = fc.oneof(
  { arbitrary: fc.constant(undefined), weight: 1 },
  { arbitrary: siteArb.map(encodeSiteId), weight: 8 },
  {
    arbitrary: fc
      .tuple(siteArb.map(encodeSiteId), fc.nat(22), fc.constantFrom('!', '+', '/', '=', 'AA', ''))
      .map(([good, at, c]) => good.slice(0, at) + c + good.slice(at + 1))
      .filter(headerSafe),
    weight: 2,
  },
);

function changesBodyArb(): fc.Arbitrary<string> {
  const valid = fc
    .record({ site: siteArb, title: fc.string({ maxLength: 10 }), n: fc.integer(), wall: fc.nat(1_000_000) })
    .map(({ site, title, n, wall }) => ({
      changes: [wire(writeRow(site, 'notes', [n], { title }, { wall: BASE_WALL + BigInt(wall) }))],
    }));
  return fc.oneof(
    valid.map((v) => JSON.stringify(v)),
    // One field of a valid body replaced by anything.
    fc
      .tuple(valid, fc.constantFrom('siteId', 'hlc', 'changes', 'transactionId'), fc.jsonValue({ maxDepth: 2 }))
      .map(([v, key, value]) => JSON.stringify({ changes: [{ ...(v.changes[0] as object), [key]: value }] })),
    fc.tuple(valid, fc.nat()).map(([v, n]) => {
      const text = JSON.stringify(v);
      return text.slice(0, n % text.length);
    }),
    fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
    fc.string({ maxLength: 40 }),
    fc.constantFrom(
      '',
      '{"changes": "x"}',
      '{"changes": [null]}',
      '{"__proto__": {"changes": []}}',
      `{"changes": ${'['.repeat(40_000)}${']'.repeat(40_000)}}`,
      `{"changes": [], "requestId": 1e400}`,
    ),
  );
}

export function requestArb(target: FuzzTarget, maxBodyBytes: number): fc.Arbitrary<FuzzRequest> {
  const databaseId = fc.oneof(
    { arbitrary: fc.constantFrom(...target.guarded), weight: 8 },
    { arbitrary: fc.string({ minLength: 1, maxLength: 12 }).map((s) => `${s}?/ `), weight: 1 },
    { arbitrary: fc.constant('b'.repeat(target.maxDatabaseIdLength + 1)), weight: 1 },
  );
  const contentType = fc.oneof(
    { arbitrary: fc.constant('application/json'), weight: 6 },
    {
      arbitrary: fc.constantFrom('application/json; charset=utf-8', 'text/plain', 'application/octet-stream', 'x/y'),
      weight: 2,
    },
  );
  const get = fc.record(
    {
      method: fc.constant<'GET'>('GET'),
      route: fc.constantFrom<'changes' | 'snapshot'>('changes', 'snapshot'),
      databaseId,
      siteId: siteHeaderArb,
      sinceHLC: fc.oneof(fc.constant(undefined), fc.string({ maxLength: 44 }), hlcArb, badBase64Arb),
    },
    { requiredKeys: ['method', 'route', 'databaseId', 'siteId', 'sinceHLC'] },
  );
  const post = fc.record(
    {
      method: fc.constant<'POST'>('POST'),
      route: fc.constant<'changes'>('changes'),
      databaseId,
      siteId: siteHeaderArb,
      contentType,
      body: fc.oneof(
        { arbitrary: changesBodyArb(), weight: 20 },
        { arbitrary: fc.constant('x'.repeat(maxBodyBytes + 1)), weight: 1 },
      ),
    },
    { requiredKeys: ['method', 'route', 'databaseId', 'siteId', 'contentType', 'body'] },
  );
  return fc.oneof({ arbitrary: get, weight: 2 }, { arbitrary: post, weight: 3 });
}
