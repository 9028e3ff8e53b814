// An HLC's 30 bytes split as the engine uses them: the transaction base (wallTime, counter,
// siteId: bytes 0..25) that all facts of one transaction share, and the fact's opSeq (26..29).
import { hlcFromBytes, hlcToBytes, HLC_BYTES, type HLC } from '../clock/hlc.js';

export const BASE_BYTES = 26;

export function opSeqOf(hlc: Uint8Array): number {
  return ((hlc[26]! << 24) | (hlc[27]! << 16) | (hlc[28]! << 8) | hlc[29]!) >>> 0;
}

/** The 30-byte HLC of the fact at `opSeq` in the transaction with this base. */
export function hlcOf(base: Uint8Array, opSeq: number): Uint8Array {
  const out = new Uint8Array(HLC_BYTES);
  // A subarray is one more object per fact; most callers pass exactly the 26 base bytes.
  out.set(base.length === BASE_BYTES ? base : base.subarray(0, BASE_BYTES));
  out[26] = opSeq >>> 24;
  out[27] = (opSeq >>> 16) & 0xff;
  out[28] = (opSeq >>> 8) & 0xff;
  out[29] = opSeq & 0xff;
  return out;
}

/** True when both (≥ 26-byte) arrays start with the same transaction base. */
export function sameBase(a: Uint8Array, b: Uint8Array): boolean {
  if (a === b) return true;
  for (let i = 0; i < BASE_BYTES; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The transaction's base HLC (opSeq 0) from its base bytes. */
export function baseHlc(base: Uint8Array): HLC {
  return hlcFromBytes(hlcOf(base, 0));
}

export function siteOfHlc(hlc: Uint8Array): Uint8Array {
  return hlc.subarray(10, BASE_BYTES);
}

/**
 * hlcToBytes for a run of facts, most of one transaction: the base is encoded once per
 * transaction (a change in wallTime, counter or siteId object starts a new one) and copied into
 * each fact's bytes, instead of redoing the bigint arithmetic for every fact.
 */
export class FactHlcBytes {
  private last: HLC | undefined;
  private readonly base = new Uint8Array(BASE_BYTES);

  of(h: HLC): Uint8Array {
    const last = this.last;
    if (last === undefined || h.siteId !== last.siteId || h.wallTime !== last.wallTime || h.counter !== last.counter) {
      const bytes = hlcToBytes(h);
      this.base.set(bytes.subarray(0, BASE_BYTES));
      this.last = h;
      return bytes;
    }
    return hlcOf(this.base, h.opSeq);
  }
}
