import { fromBase64, isBase64UrlText, toBase64Url } from '../wire/base64.js';
import { WireError } from '../wire/wire-error.js';

/** A replica's identity: 16 bytes shaped as a UUIDv4 (PROTOCOL.md §1.1). */
export type SiteId = Uint8Array;

export const SITE_ID_BYTES = 16;
export const SITE_ID_WIRE_LENGTH = 22;

function randomBytes(n: number): Uint8Array {
  const out = new Uint8Array(n);
  globalThis.crypto.getRandomValues(out);
  return out;
}

export function newSiteId(): SiteId {
  const id = randomBytes(SITE_ID_BYTES);
  id[6] = (id[6]! & 0x0f) | 0x40;
  id[8] = (id[8]! & 0x3f) | 0x80;
  return id;
}

/** base64url, no padding, always 22 characters. */
export function encodeSiteId(id: SiteId): string {
  if (id.length !== SITE_ID_BYTES) throw new WireError(`siteId must be ${SITE_ID_BYTES} bytes, got ${id.length}`);
  return toBase64Url(id);
}

/** Strict: exactly 22 characters of the URL alphabet (the real client's decoder rule). */
export function decodeSiteId(text: unknown, what = 'siteId'): SiteId {
  if (typeof text !== 'string') throw new WireError(`${what} must be a string`);
  if (text.length !== SITE_ID_WIRE_LENGTH) {
    throw new WireError(`${what} must be ${SITE_ID_WIRE_LENGTH} base64url characters, got ${text.length}`);
  }
  if (!isBase64UrlText(text)) throw new WireError(`${what} must use the base64url alphabet`);
  return fromBase64(text, what);
}
