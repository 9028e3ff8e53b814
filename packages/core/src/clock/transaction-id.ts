import type { HLC } from './hlc.js';
import { encodeSiteId } from './site-id.js';

/** `"<wallTime>:<counter>:<siteId b64url>"` from the transaction's base HLC (PROTOCOL.md §1.4). */
export function transactionIdOf(h: HLC): string {
  return `${h.wallTime}:${h.counter}:${encodeSiteId(h.siteId)}`;
}
