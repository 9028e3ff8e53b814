import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeHLC, hlcFromBytes, hlcToBytes, makeHLC } from '../clock/hlc.js';
import { StreamEncoder } from './stream-encoder.js';

describe('StreamEncoder', () => {
  it('writes encodeHLC of any HLC, across changing and repeated transactions (property)', () => {
    const w = new StreamEncoder();
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 30, maxLength: 30 }), fc.boolean(), (bytes, again) => {
        const expected = encodeHLC(hlcFromBytes(bytes));
        const opSeq = ((bytes[26]! << 24) | (bytes[27]! << 16) | (bytes[28]! << 8) | bytes[29]!) >>> 0;
        expect(w.hlcOfBytes(bytes)).toBe(expected);
        expect(w.hlc(bytes.slice(0, 26), opSeq)).toBe(expected);
        if (again) expect(w.hlcOfBytes(bytes)).toBe(expected); // the cached prefix
      }),
      { numRuns: 500 },
    );
  });

  it('keeps the prefix apart for bases that differ only in bytes 24 and 25', () => {
    const w = new StreamEncoder();
    const a = hlcToBytes(makeHLC(1n, 0x0102, new Uint8Array(16).fill(7), 5));
    const b = a.slice();
    b[25] = 0x99;
    expect(w.hlcOfBytes(a)).toBe(encodeHLC(hlcFromBytes(a)));
    expect(w.hlcOfBytes(b)).toBe(encodeHLC(hlcFromBytes(b)));
  });
});
