import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { WireError } from '../wire/wire-error.js';
import { compareBytes, fromHex, toHex } from './bytes.js';
import {
  compareHLC,
  decodeHLC,
  encodeHLC,
  hlcFromBytes,
  hlcToBytes,
  makeHLC,
  sameTransaction,
  transactionBase,
  type HLC,
} from './hlc.js';
import { decodeSiteId, encodeSiteId, newSiteId } from './site-id.js';
import { transactionIdOf } from './transaction-id.js';

const SITE_A = fromHex('6f1c2a9e4b7d4c1a8e3f001122334455');
const SITE_B = fromHex('c3d2e1f0a1b24c3d9e8f7a6b5c4d3e2f');

describe('site id (PROTOCOL.md §1.1)', () => {
  it('encodes the protocol examples byte for byte', () => {
    expect(encodeSiteId(SITE_A)).toBe('bxwqnkt9TBqOPwARIjNEVQ');
    expect(encodeSiteId(SITE_B)).toBe('w9Lh8KGyTD2ej3prXE0-Lw');
    expect(toHex(decodeSiteId('bxwqnkt9TBqOPwARIjNEVQ'))).toBe('6f1c2a9e4b7d4c1a8e3f001122334455');
    expect(toHex(decodeSiteId('w9Lh8KGyTD2ej3prXE0-Lw'))).toBe('c3d2e1f0a1b24c3d9e8f7a6b5c4d3e2f');
  });

  it('makes UUIDv4-shaped ids that survive the wire', () => {
    for (let i = 0; i < 50; i++) {
      const id = newSiteId();
      expect(id[6]! >> 4).toBe(4);
      expect(id[8]! >> 6).toBe(0b10);
      expect(decodeSiteId(encodeSiteId(id))).toEqual(id);
    }
  });

  it.each([
    ['a number', 5, /must be a string/],
    ['21 characters', 'bxwqnkt9TBqOPwARIjNEV', /22 base64url characters, got 21/],
    ['23 characters', 'bxwqnkt9TBqOPwARIjNEVQA', /22 base64url characters, got 23/],
    ['the standard alphabet', 'w9Lh8KGyTD2ej3prXE0+Lw', /base64url alphabet/],
    ['padding', 'bxwqnkt9TBqOPwARIjNE==', /base64url alphabet/],
  ])('rejects %s', (_name, input, message) => {
    expect(() => decodeSiteId(input, 'siteId')).toThrow(WireError);
    expect(() => decodeSiteId(input, 'siteId')).toThrow(message);
  });
});

describe('HLC (PROTOCOL.md §1.2, §1.4)', () => {
  const example = makeHLC(1718000000000n, 3, SITE_A, 0);

  it('encodes the protocol example for opSeq 0 and 1', () => {
    expect(encodeHLC(example)).toBe('AAABkADHnAAAA28cKp5LfUwajj8AESIzRFUAAAAA');
    expect(encodeHLC({ ...example, opSeq: 1 })).toBe('AAABkADHnAAAA28cKp5LfUwajj8AESIzRFUAAAAB');
    expect(decodeHLC('AAABkADHnAAAA28cKp5LfUwajj8AESIzRFUAAAAB')).toEqual({ ...example, opSeq: 1 });
  });

  it('lays out the 30 bytes big-endian', () => {
    expect(toHex(hlcToBytes(makeHLC(0x0102030405060708n, 0x090a, SITE_A, 0x0b0c0d0e)))).toBe(
      '0102030405060708' + '090a' + '6f1c2a9e4b7d4c1a8e3f001122334455' + '0b0c0d0e',
    );
  });

  it('accepts the url alphabet too, like the reference decoder', () => {
    const h = makeHLC(1718000001234n, 0, SITE_B, 2);
    const url = encodeHLC(h).replace(/\+/g, '-').replace(/\//g, '_');
    expect(decodeHLC(url)).toEqual(h);
  });

  it('builds the deterministic transaction id from the base HLC', () => {
    expect(transactionIdOf(example)).toBe('1718000000000:3:bxwqnkt9TBqOPwARIjNEVQ');
    expect(transactionIdOf({ ...example, opSeq: 9 })).toBe('1718000000000:3:bxwqnkt9TBqOPwARIjNEVQ');
    expect(transactionBase({ ...example, opSeq: 9 })).toEqual(example);
    expect(sameTransaction(example, { ...example, opSeq: 9 })).toBe(true);
    expect(sameTransaction(example, { ...example, counter: 4 })).toBe(false);
  });

  it.each([
    ['a number', 5, /must be a base64 string/],
    ['39 characters', 'AAABkADHnAAAA28cKp5LfUwajj8AESIzRFUAAAA', /40 base64 characters .*got 39/],
    ['41 characters', 'AAABkADHnAAAA28cKp5LfUwajj8AESIzRFUAAAAAA', /40 base64 characters .*got 41/],
    ['a bad character', 'AAABkADHnAAAA28cKp5LfUwajj8AESIzRFUAAA!A', /invalid base64 character at 38/],
    ['padding inside 40 characters', 'AAABkADHnAAAA28cKp5LfUwajj8AESIzRFUAAA==', /must decode to 30 bytes, got 28/],
  ])('rejects %s naming the field', (_name, input, message) => {
    expect(() => decodeHLC(input, 'changes[3].hlc')).toThrow(WireError);
    expect(() => decodeHLC(input, 'changes[3].hlc')).toThrow(/^changes\[3\]\.hlc/);
    expect(() => decodeHLC(input, 'changes[3].hlc')).toThrow(message);
  });

  it.each([
    ['a negative wall time', () => makeHLC(-1n, 0, SITE_A)],
    ['a wall time past u64', () => makeHLC(2n ** 64n, 0, SITE_A)],
    ['a counter past u16', () => makeHLC(0n, 65536, SITE_A)],
    ['a fractional counter', () => makeHLC(0n, 1.5, SITE_A)],
    ['an opSeq past u32', () => makeHLC(0n, 0, SITE_A, 2 ** 32)],
    ['a short site id', () => makeHLC(0n, 0, SITE_A.slice(1))],
  ])('makeHLC refuses %s', (_name, make) => {
    expect(make).toThrow(WireError);
  });

  // Small domains make equal fields (and so the later tie-breaks) common.
  const arbHLC: fc.Arbitrary<HLC> = fc.record({
    wallTime: fc.oneof(fc.bigInt({ min: 0n, max: 3n }), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n })),
    counter: fc.oneof(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 65535 })),
    siteId: fc.oneof(
      fc.constantFrom(SITE_A, SITE_B),
      fc.uint8Array({ minLength: 16, maxLength: 16 }),
      fc.uint8Array({ minLength: 16, maxLength: 16, min: 0, max: 1 }),
    ),
    opSeq: fc.oneof(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 2 ** 32 - 1 })),
  });

  it('orders exactly as the 30-byte form orders (property)', () => {
    fc.assert(
      fc.property(arbHLC, arbHLC, (a, b) => {
        expect(compareHLC(a, b)).toBe(compareBytes(hlcToBytes(a), hlcToBytes(b)));
        expect(compareHLC(a, b) + compareHLC(b, a)).toBe(0);
      }),
      { numRuns: 2000 },
    );
  });

  it('round-trips through bytes and base64 (property)', () => {
    fc.assert(
      fc.property(arbHLC, (h) => {
        expect(hlcFromBytes(hlcToBytes(h))).toEqual(h);
        const text = encodeHLC(h);
        expect(text).toMatch(/^[A-Za-z0-9+/]{40}$/);
        expect(decodeHLC(text)).toEqual(h);
      }),
      { numRuns: 500 },
    );
  });
});
