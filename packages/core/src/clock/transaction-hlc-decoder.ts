// Decoding the HLCs of one transaction's facts. A set's facts all carry its base (bytes 0..25:
// wallTime, counter, siteId), so a fact's 40 base64 characters mostly repeat the set's `hlc`:
// characters 0..31 spell bytes 0..23 exactly, and only the last 8 (bytes 24..29) tell it apart.
// Decoding just those and sharing the base's wallTime and siteId objects spares a full decode and
// two allocations per fact, on the hottest path of every apply.
import { base64Digit } from '../wire/base64.js';
import { decodeHLC, type HLC } from './hlc.js';

const SHARED_CHARS = 32;
const HLC_CHARS = 40;

export class TransactionHlcDecoder {
  private readonly prefix: string;

  /** `reference` is the decoded `referenceText`, the set's own `hlc`. */
  constructor(
    private readonly reference: HLC,
    referenceText: string,
  ) {
    this.prefix = referenceText.slice(0, SHARED_CHARS);
  }

  /**
   * The fact's HLC. Text that does not start like the reference (another transaction, the other
   * base64 alphabet, or no valid HLC at all) is decoded in full by decodeHLC, so what it accepts
   * and the errors it throws are decodeHLC's; the caller still checks the transaction.
   */
  decode(text: unknown, what: () => string): HLC {
    if (typeof text === 'string' && text.length === HLC_CHARS && text.startsWith(this.prefix)) {
      const hi = quad(text, SHARED_CHARS);
      const lo = quad(text, SHARED_CHARS + 4);
      const site = this.reference.siteId;
      // Bytes 24 and 25 are the siteId's last two; a padded or foreign character reads as < 0.
      if (hi >= 0 && lo >= 0 && hi >>> 16 === site[14] && ((hi >>> 8) & 0xff) === site[15]) {
        const opSeq = (hi & 0xff) * 0x1000000 + lo;
        return { wallTime: this.reference.wallTime, counter: this.reference.counter, siteId: site, opSeq };
      }
    }
    return decodeHLC(text, what());
  }
}

/** Three bytes from four base64 characters at `at`, or -1 if one of them is not base64. */
function quad(text: string, at: number): number {
  const a = base64Digit(text.charCodeAt(at));
  const b = base64Digit(text.charCodeAt(at + 1));
  const c = base64Digit(text.charCodeAt(at + 2));
  const d = base64Digit(text.charCodeAt(at + 3));
  if ((a | b | c | d) < 0) return -1;
  return (a << 18) | (b << 12) | (c << 6) | d;
}
