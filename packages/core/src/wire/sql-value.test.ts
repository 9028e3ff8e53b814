import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  MAX_BIGINT_CHARS,
  MAX_JSON_DEPTH,
  decodeSqlValue,
  decodeSqlValues,
  encodeSqlValue,
  encodeSqlValues,
} from './sql-value.js';
import type { SqlValue } from './types.js';
import { WireError } from './wire-error.js';

const DEADBEEF = Uint8Array.from([0xde, 0xad, 0xbe, 0xef]);
const wire = (v: SqlValue): string => JSON.stringify(encodeSqlValue(v));
const nest = (depth: number): unknown => {
  let v: unknown = 1;
  for (let i = 0; i < depth; i++) v = [v];
  return v;
};

describe('encodeSqlValue (PROTOCOL.md §1.3)', () => {
  it.each<[string, SqlValue, string]>([
    ['null', null, 'null'],
    ['a string', 'hello', '"hello"'],
    ['a number', 42.5, '42.5'],
    ['a boolean', true, 'true'],
    ['a blob as padded standard base64', DEADBEEF, '{"__bin":"3q2+7w=="}'],
    ['an empty blob', new Uint8Array(0), '{"__bin":""}'],
    ['a bigint as decimal', -(2n ** 70n), '{"__bigint":"-1180591620717411303424"}'],
    ['NaN as null', NaN, 'null'],
    ['Infinity as null', Infinity, 'null'],
    ['-Infinity as null', -Infinity, 'null'],
    ['a JSON object unchanged', { a: [1, 'x'] }, '{"a":[1,"x"]}'],
  ])('writes %s', (_name, value, json) => {
    expect(wire(value)).toBe(json);
  });

  it('encodes arrays element by element', () => {
    expect(JSON.stringify(encodeSqlValues([DEADBEEF, 'urgent', 5n]))).toBe(
      '[{"__bin":"3q2+7w=="},"urgent",{"__bigint":"5"}]',
    );
  });
});

describe('decodeSqlValue', () => {
  it.each<[string, unknown, SqlValue]>([
    ['a tagged blob', { __bin: '3q2+7w==' }, DEADBEEF],
    ['a tagged blob in the url alphabet, unpadded', { __bin: '3q2-7w' }, DEADBEEF],
    ['a tagged bigint', { __bigint: '-12345678901234567890' }, -12345678901234567890n],
    ['a legacy byte object', { '0': 222, '1': 173, '2': 190, '3': 239 }, DEADBEEF],
    ['an empty object (not a legacy blob)', {}, {}],
    ['a byte object with a gap', { '0': 1, '2': 3 }, { '0': 1, '2': 3 }],
    ['a byte object with 256', { '0': 256 }, { '0': 256 }],
    ['a byte object with a fraction', { '0': 1.5 }, { '0': 1.5 }],
    ['a non-string __bin', { __bin: 5 }, { __bin: 5 }],
    ['tags nested in JSON (only the top level is tagged)', [{ __bin: 'AA==' }], [{ __bin: 'AA==' }]],
    ['a string', 'x', 'x'],
    ['null', null, null],
  ])('reads %s', (_name, json, value) => {
    expect(decodeSqlValue(json)).toEqual(value);
  });

  it('treats the extra keys of a tagged object as noise', () => {
    expect(decodeSqlValue({ __bin: 'AQI=', extra: 1 })).toEqual(Uint8Array.from([1, 2]));
  });

  it.each<[string, unknown, RegExp]>([
    ['undefined', undefined, /value must be a JSON value, got undefined/],
    ['a function', () => 1, /must be a JSON value, got function/],
    ['a symbol', Symbol('x'), /must be a JSON value, got symbol/],
    ['NaN', NaN, /must be a finite number/],
    ['Infinity', Infinity, /must be a finite number/],
    ['NaN nested in an object', { a: [NaN] }, /value\.a\[0\] must be a finite number/],
    ['undefined nested in an array', [1, undefined], /value\[1\] must be a JSON value/],
    ['a Date', new Date(0), /must be a plain JSON object/],
    ['a Map', new Map(), /must be a plain JSON object/],
    ['__bin with a bad character', { __bin: '3q2+7w=!' }, /value\.__bin: invalid base64 character/],
    ['__bin with an impossible length', { __bin: 'AAAAA' }, /value\.__bin: bad base64 length/],
    ['__bin with bad padding', { __bin: 'AAA==' }, /value\.__bin: bad base64 padding/],
    ['__bigint with a fraction', { __bigint: '1.5' }, /value\.__bigint must be a decimal integer/],
    ['__bigint empty', { __bigint: '' }, /must be a decimal integer/],
    ['__bigint in hex', { __bigint: '0x10' }, /must be a decimal integer/],
    ['__bigint with spaces', { __bigint: ' 1' }, /must be a decimal integer/],
    ['__bigint with a plus sign', { __bigint: '+1' }, /must be a decimal integer/],
    ['__bigint too long', { __bigint: '9'.repeat(MAX_BIGINT_CHARS + 1) }, /at most 1024 characters/],
    ['JSON nested too deep', nest(MAX_JSON_DEPTH + 1), /nested deeper than 100 levels/],
  ])('rejects %s', (_name, json, message) => {
    expect(() => decodeSqlValue(json)).toThrow(WireError);
    expect(() => decodeSqlValue(json)).toThrow(message);
  });

  it('accepts JSON exactly at the depth bound and bigints at the length bound', () => {
    expect(decodeSqlValue(nest(MAX_JSON_DEPTH))).toEqual(nest(MAX_JSON_DEPTH));
    expect(decodeSqlValue({ __bigint: '9'.repeat(MAX_BIGINT_CHARS) })).toBe(BigInt('9'.repeat(MAX_BIGINT_CHARS)));
  });

  it('decodeSqlValues demands an array and names the element', () => {
    expect(decodeSqlValues([{ __bin: '3q2+7w==' }, 'urgent'], 'priorRow')).toEqual([DEADBEEF, 'urgent']);
    expect(() => decodeSqlValues('42', 'pk')).toThrow(/pk must be an array/);
    expect(() => decodeSqlValues({ 0: 42 }, 'pk')).toThrow(/pk must be an array/);
    expect(() => decodeSqlValues([1, { __bigint: 'x' }], 'pk')).toThrow(/pk\[1\]\.__bigint must be a decimal integer/);
  });
});

/** Any SqlValue whose JSON form survives the wire: plain JSON that does not look like a tag. */
const looksTagged = (v: unknown): boolean =>
  typeof v === 'object' &&
  v !== null &&
  !Array.isArray(v) &&
  ('__bin' in v || '__bigint' in v || Object.keys(v).some((k) => /^\d+$/.test(k)));
const arbJson = fc
  .jsonValue({ maxDepth: 3 })
  .filter((v) => !looksTagged(v))
  .map((v) => JSON.parse(JSON.stringify(v)) as SqlValue); // -0 → 0, as on the wire
const arbSqlValue: fc.Arbitrary<SqlValue> = fc.oneof(
  fc.constant(null),
  fc.string(),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((n) => (Object.is(n, -0) ? 0 : n)),
  fc.boolean(),
  fc.bigInt({ min: -(2n ** 80n), max: 2n ** 80n }),
  fc.uint8Array({ maxLength: 40 }),
  arbJson,
);

describe('SqlValue round trip (property)', () => {
  it('decode(parse(stringify(encode(v)))) equals v', () => {
    fc.assert(
      fc.property(arbSqlValue, (v) => {
        const back = decodeSqlValue(JSON.parse(wire(v)));
        expect(back).toEqual(v);
        expect(wire(back)).toBe(wire(v));
      }),
      { numRuns: 1000 },
    );
  });

  it('maps non-finite numbers to null and nothing else changes', () => {
    fc.assert(
      fc.property(fc.constantFrom(NaN, Infinity, -Infinity), (n) => {
        expect(decodeSqlValue(JSON.parse(wire(n)))).toBeNull();
      }),
      { numRuns: 10 },
    );
  });
});
