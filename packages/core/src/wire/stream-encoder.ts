// Encoding the facts of a long stream (a catch-up, a snapshot) into their wire objects, for one
// JSON.stringify of a whole page: what consecutive facts share is encoded once. Facts of one
// transaction share the first 24 of their HLC's 30 bytes, so the first 32 base64 characters are
// written once per transaction and only the last 8 per fact; a row's cells share its pk.
import { base64OfGroups, toBase64 } from './base64.js';
import { encodeSqlValues } from './sql-value.js';
import type { SqlValue } from './types.js';

/** HLC bytes that are whole base64 groups shared by every fact of a transaction. */
const PREFIX_BYTES = 24;

/** One per stream: it remembers the last transaction and pk it encoded. */
export class StreamEncoder {
  private base: Uint8Array | undefined;
  private prefix = '';
  private pk: readonly SqlValue[] | undefined;
  private pkWire: unknown[] = [];

  /** encodeHLC of the fact at `opSeq` in the transaction whose first 26 bytes `base` holds. */
  hlc(base: Uint8Array, opSeq: number): string {
    if (base !== this.base) {
      if (!this.base || !samePrefix(this.base, base)) this.prefix = toBase64(base.subarray(0, PREFIX_BYTES));
      this.base = base;
    }
    // Bytes 24..29: the last two base bytes, then opSeq big-endian.
    const first = (base[PREFIX_BYTES]! << 16) | (base[PREFIX_BYTES + 1]! << 8) | (opSeq >>> 24);
    return this.prefix + base64OfGroups(first, opSeq & 0xffffff);
  }

  /** encodeHLC of a 30-byte HLC. */
  hlcOfBytes(hlc: Uint8Array): string {
    return this.hlc(hlc, ((hlc[26]! << 24) | (hlc[27]! << 16) | (hlc[28]! << 8) | hlc[29]!) >>> 0);
  }

  /** encodeSqlValues of a pk; the stores hand a row's cells one pk array, so it is encoded once. */
  pkOf(pk: readonly SqlValue[]): unknown[] {
    if (pk !== this.pk) {
      this.pk = pk;
      this.pkWire = encodeSqlValues(pk);
    }
    return this.pkWire;
  }
}

function samePrefix(a: Uint8Array, b: Uint8Array): boolean {
  for (let i = 0; i < PREFIX_BYTES; i++) if (a[i] !== b[i]) return false;
  return true;
}
