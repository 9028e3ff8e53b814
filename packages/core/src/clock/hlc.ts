import { fromBase64, toBase64 } from '../wire/base64.js';
import { WireError } from '../wire/wire-error.js';
import { compareBytes } from './bytes.js';
import { SITE_ID_BYTES, type SiteId } from './site-id.js';

/** Hybrid Logical Clock timestamp of one fact (PROTOCOL.md §1.2). */
export interface HLC {
  readonly wallTime: bigint;
  readonly counter: number;
  readonly siteId: SiteId;
  readonly opSeq: number;
}

export const HLC_BYTES = 30;
export const MAX_COUNTER = 0xffff;
export const MAX_OP_SEQ = 0xffffffff;
const MAX_WALL = 0xffffffffffffffffn;

export function compareHLC(a: HLC, b: HLC): number {
  if (a.wallTime !== b.wallTime) return a.wallTime < b.wallTime ? -1 : 1;
  if (a.counter !== b.counter) return a.counter < b.counter ? -1 : 1;
  const s = compareBytes(a.siteId, b.siteId);
  if (s !== 0) return s;
  if (a.opSeq !== b.opSeq) return a.opSeq < b.opSeq ? -1 : 1;
  return 0;
}

export function maxHLC(a: HLC, b: HLC): HLC {
  return compareHLC(a, b) >= 0 ? a : b;
}

/** True when both HLCs belong to the same transaction (same wall, counter and site). */
export function sameTransaction(a: HLC, b: HLC): boolean {
  return a.wallTime === b.wallTime && a.counter === b.counter && compareBytes(a.siteId, b.siteId) === 0;
}

export function makeHLC(wallTime: bigint, counter: number, siteId: SiteId, opSeq = 0): HLC {
  if (wallTime < 0n || wallTime > MAX_WALL) throw new WireError('HLC wallTime out of range');
  if (!Number.isInteger(counter) || counter < 0 || counter > MAX_COUNTER)
    throw new WireError('HLC counter out of range');
  if (!Number.isInteger(opSeq) || opSeq < 0 || opSeq > MAX_OP_SEQ) throw new WireError('HLC opSeq out of range');
  if (siteId.length !== SITE_ID_BYTES) throw new WireError('HLC siteId must be 16 bytes');
  return { wallTime, counter, siteId, opSeq };
}

/** The 30-byte big-endian form; its byte order equals compareHLC order. */
export function hlcToBytes(h: HLC): Uint8Array {
  // Plain byte writes: DataView.setBigUint64 made this the hottest step of encoding a change set.
  const out = new Uint8Array(HLC_BYTES);
  writeU32(out, 0, Number(h.wallTime >> 32n));
  writeU32(out, 4, Number(h.wallTime & 0xffffffffn));
  out[8] = h.counter >>> 8;
  out[9] = h.counter & 0xff;
  out.set(h.siteId, 10);
  writeU32(out, 26, h.opSeq);
  return out;
}

export function hlcFromBytes(bytes: Uint8Array): HLC {
  if (bytes.length !== HLC_BYTES) throw new WireError(`HLC must be ${HLC_BYTES} bytes, got ${bytes.length}`);
  return {
    wallTime: (BigInt(readU32(bytes, 0)) << 32n) | BigInt(readU32(bytes, 4)),
    counter: (bytes[8]! << 8) | bytes[9]!,
    siteId: bytes.slice(10, 26),
    opSeq: readU32(bytes, 26),
  };
}

function writeU32(out: Uint8Array, at: number, v: number): void {
  out[at] = v >>> 24;
  out[at + 1] = (v >>> 16) & 0xff;
  out[at + 2] = (v >>> 8) & 0xff;
  out[at + 3] = v & 0xff;
}

function readU32(b: Uint8Array, at: number): number {
  return ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
}

/** Standard base64 of the 30 bytes: always 40 characters, never padded. */
export function encodeHLC(h: HLC): string {
  return toBase64(hlcToBytes(h));
}

/** Accepts either base64 alphabet (the reference decoder is lenient); demands exactly 30 bytes. */
export function decodeHLC(text: unknown, what = 'hlc'): HLC {
  if (typeof text !== 'string') throw new WireError(`${what} must be a base64 string`);
  if (text.length !== 40) throw new WireError(`${what} must be 40 base64 characters (30 bytes), got ${text.length}`);
  const bytes = fromBase64(text, what);
  // 40 characters ending in '=' padding decode to fewer than 30 bytes; name the field, not "HLC".
  if (bytes.length !== HLC_BYTES) throw new WireError(`${what} must decode to ${HLC_BYTES} bytes, got ${bytes.length}`);
  return hlcFromBytes(bytes);
}

/** The HLC with opSeq 0: the base of a transaction. */
export function transactionBase(h: HLC): HLC {
  return h.opSeq === 0 ? h : { wallTime: h.wallTime, counter: h.counter, siteId: h.siteId, opSeq: 0 };
}
