// Portable, strict base64 codecs (no Buffer, so core runs in browsers). Node's own decoder is
// lenient (it skips bad characters), which would let malformed input reach the engine.
import { WireError } from './wire-error.js';

const STD = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

// Decode table accepting both alphabets; the HLC decoder must take either (PROTOCOL.md §1.2).
const DECODE = new Int16Array(128).fill(-1);
for (let i = 0; i < 64; i++) {
  DECODE[STD.charCodeAt(i)] = i;
  DECODE[URL.charCodeAt(i)] = i;
}

// Two characters per 12 bits: half the string appends of a per-character loop, and HLCs and
// blobs are encoded for every fact served.
function pairTable(alphabet: string): string[] {
  const out = new Array<string>(4096);
  for (let i = 0; i < 4096; i++) out[i] = alphabet[i >> 6]! + alphabet[i & 63]!;
  return out;
}
const STD_PAIRS = pairTable(STD);
const URL_PAIRS = pairTable(URL);

function encode(bytes: Uint8Array, alphabet: string, pairs: readonly string[], pad: boolean): string {
  let out = '';
  const n = bytes.length;
  let i = 0;
  for (; i + 2 < n; i += 3) {
    const v = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out += pairs[v >> 12]! + pairs[v & 4095]!;
  }
  const rest = n - i;
  if (rest === 1) {
    const v = bytes[i]! << 16;
    out += alphabet[v >> 18]! + alphabet[(v >> 12) & 63]! + (pad ? '==' : '');
  } else if (rest === 2) {
    const v = (bytes[i]! << 16) | (bytes[i + 1]! << 8);
    out += alphabet[v >> 18]! + alphabet[(v >> 12) & 63]! + alphabet[(v >> 6) & 63]! + (pad ? '=' : '');
  }
  return out;
}

/** Standard alphabet (`+` `/`) with `=` padding. */
export function toBase64(bytes: Uint8Array): string {
  return encode(bytes, STD, STD_PAIRS, true);
}

/**
 * Standard base64 of two 24-bit groups (six bytes, eight characters, no padding): the tail of an
 * HLC, which the text writers append to a per-transaction prefix.
 */
export function base64OfGroups(first: number, second: number): string {
  return STD_PAIRS[first >> 12]! + STD_PAIRS[first & 4095]! + STD_PAIRS[second >> 12]! + STD_PAIRS[second & 4095]!;
}

/** URL alphabet (`-` `_`) without padding. */
export function toBase64Url(bytes: Uint8Array): string {
  return encode(bytes, URL, URL_PAIRS, false);
}

/** The 6-bit value of one base64 character (either alphabet), or -1 for any other character. */
export function base64Digit(charCode: number): number {
  return charCode < 128 ? DECODE[charCode]! : -1;
}

/**
 * Decodes base64 in either alphabet, with or without padding. Throws a WireError naming `what`
 * on any character outside the alphabets, misplaced padding or an impossible length.
 */
export function fromBase64(text: string, what: string): Uint8Array {
  let len = text.length;
  if (len > 0 && text.charCodeAt(len - 1) === 61 /* = */) {
    len--;
    if (len > 0 && text.charCodeAt(len - 1) === 61) len--;
    if (text.length % 4 !== 0) throw new WireError(`${what}: bad base64 padding`);
  }
  if (len % 4 === 1) throw new WireError(`${what}: bad base64 length`);
  const out = new Uint8Array(Math.floor((len * 3) / 4));
  let o = 0;
  let acc = 0;
  let bits = 0;
  for (let i = 0; i < len; i++) {
    const c = text.charCodeAt(i);
    const d = c < 128 ? DECODE[c]! : -1;
    if (d < 0) throw new WireError(`${what}: invalid base64 character at ${i}`);
    acc = (acc << 6) | d;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 0xff;
    }
  }
  // Non-zero leftover bits mean a non-canonical encoding; accept it like every common decoder.
  return out;
}

/** True when the string uses only the URL-safe alphabet. */
export function isBase64UrlText(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const ok = (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 45 || c === 95;
    if (!ok) return false;
  }
  return true;
}
