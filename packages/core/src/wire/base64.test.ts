import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromBase64, isBase64UrlText, toBase64, toBase64Url } from './base64.js';
import { WireError } from './wire-error.js';

// Node's Buffer is the reference here only; the codec itself must not use it (core runs in browsers).
describe('base64', () => {
  it('matches Buffer for both alphabets and decodes its own output (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), (bytes) => {
        const std = toBase64(bytes);
        const url = toBase64Url(bytes);
        expect(std).toBe(Buffer.from(bytes).toString('base64'));
        expect(url).toBe(Buffer.from(bytes).toString('base64url'));
        expect(isBase64UrlText(url)).toBe(true);
        expect(fromBase64(std, 'x')).toEqual(bytes);
        expect(fromBase64(url, 'x')).toEqual(bytes);
      }),
      { numRuns: 1000 },
    );
  });

  it('encodes the protocol blob example', () => {
    expect(toBase64(Uint8Array.from([0xde, 0xad, 0xbe, 0xef]))).toBe('3q2+7w==');
    expect(toBase64(new Uint8Array(0))).toBe('');
  });

  it('encodes a large blob in one piece', () => {
    const bytes = Uint8Array.from({ length: 100_003 }, (_, i) => (i * 7919) & 0xff);
    expect(toBase64(bytes)).toBe(Buffer.from(bytes).toString('base64'));
  });

  it.each([
    ['a bad character', 'ab$d', /x: invalid base64 character at 2/],
    ['a non-ASCII character', 'abcé', /x: invalid base64 character at 3/],
    ['whitespace', 'ab d', /invalid base64 character at 2/],
    ['padding in the middle', 'ab=d', /invalid base64 character at 2/],
    ['three padding characters', 'a===', /invalid base64 character at 1/],
    ['padding on a length that is not a multiple of 4', 'abc==', /bad base64 padding/],
    ['an impossible length', 'abcde', /bad base64 length/],
  ])('rejects %s', (_name, text, message) => {
    expect(() => fromBase64(text, 'x')).toThrow(WireError);
    expect(() => fromBase64(text, 'x')).toThrow(message);
  });
});
