import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { WireError } from '../wire/wire-error.js';
import { decodeHLC, encodeHLC, hlcToBytes, type HLC } from './hlc.js';
import { TransactionHlcDecoder } from './transaction-hlc-decoder.js';

const hlcArb = fc.record({
  wallTime: fc.bigInt({ min: 0n, max: 0xffffffffffffffffn }),
  counter: fc.integer({ min: 0, max: 0xffff }),
  siteId: fc.uint8Array({ minLength: 16, maxLength: 16 }),
  opSeq: fc.nat({ max: 0xffffffff }),
});

const toUrlAlphabet = (text: string): string => text.replace(/\+/g, '-').replace(/\//g, '_');

/** What decodeHLC makes of the text: the HLC, or the error message it throws. */
function reference(text: unknown): HLC | string {
  try {
    return decodeHLC(text, 'fact.hlc');
  } catch (err) {
    return (err as Error).message;
  }
}

function decoded(decoder: TransactionHlcDecoder, text: unknown): HLC | string {
  try {
    return decoder.decode(text, () => 'fact.hlc');
  } catch (err) {
    expect(err).toBeInstanceOf(WireError);
    return (err as Error).message;
  }
}

describe('TransactionHlcDecoder', () => {
  it('decodes facts of the reference transaction exactly as decodeHLC does, sharing its base', () => {
    fc.assert(
      fc.property(hlcArb, fc.nat({ max: 0xffffffff }), (ref, opSeq) => {
        const decoder = new TransactionHlcDecoder(ref, encodeHLC(ref));
        const fact = { ...ref, opSeq };
        const got = decoder.decode(encodeHLC(fact), () => 'fact.hlc');
        expect(got).toEqual(decodeHLC(encodeHLC(fact)));
        expect(hlcToBytes(got)).toEqual(hlcToBytes(fact));
        expect(got.siteId).toBe(ref.siteId);
      }),
    );
  });

  it('agrees with decodeHLC on any other text: other transactions, the URL alphabet, bad characters, padding', () => {
    fc.assert(
      fc.property(hlcArb, hlcArb, fc.nat({ max: 39 }), (ref, other, at) => {
        const decoder = new TransactionHlcDecoder(ref, encodeHLC(ref));
        const sameBaseText = encodeHLC({ ...ref, opSeq: other.opSeq });
        // Bytes 24 and 25 (the siteId's last two) differ while characters 0..31 still match.
        const site = ref.siteId.slice();
        site[15] = site[15]! ^ 1;
        const texts: unknown[] = [
          encodeHLC(other),
          toUrlAlphabet(sameBaseText),
          encodeHLC({ ...ref, siteId: site }),
          `${sameBaseText.slice(0, at)}!${sameBaseText.slice(at + 1)}`,
          `${sameBaseText.slice(0, 38)}==`,
          sameBaseText.slice(0, 39),
          42,
        ];
        for (const text of texts) expect(decoded(decoder, text)).toEqual(reference(text));
      }),
    );
  });
});
