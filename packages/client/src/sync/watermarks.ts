// The two persisted sync positions against one server, keyed by its site id (a server that changes
// identity is a different history): `received` is the max ChangeSet HLC of the last `changes`
// reply, or a snapshot's header HLC; `sent` (the reference's lastSentHLC) is the highest local
// transaction the server acknowledged; the push cursor is where the scan for pending ones resumes. Both live in the replica's own key/value store, so they survive a
// restart together with the data they describe.
import { compareHLC, decodeHLC, encodeHLC, encodeSiteId, type HLC, type SiteId } from '@syncord/core';

export interface LocalKeyValue {
  getLocal(key: string): string | undefined;
  setLocal(key: string, value: string): void;
}

export class Watermarks {
  private readonly receivedKey: string;
  private readonly sentKey: string;
  private readonly cursorKey: string;

  constructor(
    private readonly store: LocalKeyValue,
    serverSiteId: SiteId,
  ) {
    const server = encodeSiteId(serverSiteId);
    this.receivedKey = `syncord.received.${server}`;
    this.sentKey = `syncord.sent.${server}`;
    this.cursorKey = `syncord.push-cursor.${server}`;
  }

  received(): HLC | undefined {
    return this.read(this.receivedKey);
  }

  sent(): HLC | undefined {
    return this.read(this.sentKey);
  }

  /**
   * The received watermark is exactly the max HLC of the last reply, even when that is lower
   * than before (a reply of late arrivals only): that is the position the server recorded for
   * this reply (gap-free catch-up), and the real client does the same.
   */
  setReceived(hlc: HLC): void {
    this.store.setLocal(this.receivedKey, encodeHLC(hlc));
  }

  /** The highest HLC of a local transaction the server acknowledged: what is above it is pending. */
  advanceSent(hlc: HLC): HLC {
    const current = this.sent();
    if (current && compareHLC(current, hlc) >= 0) return current;
    this.store.setLocal(this.sentKey, encodeHLC(hlc));
    return hlc;
  }

  /**
   * Where the next scan for pending pushes starts: exactly the max HLC of the last page scanned
   * (the replica recorded that position, so arrivals below it are served once, not forever).
   * It can be below `sent` after a snapshot re-inserted facts; `sent` keeps those from being
   * pushed again.
   */
  pushCursor(): HLC | undefined {
    return this.read(this.cursorKey);
  }

  setPushCursor(hlc: HLC): void {
    this.store.setLocal(this.cursorKey, encodeHLC(hlc));
  }

  private read(key: string): HLC | undefined {
    const text = this.store.getLocal(key);
    return text === undefined ? undefined : decodeHLC(text, key);
  }
}
