// The two persisted sync positions against one server, keyed by its site id (a server that changes
// identity is a different history): `received` is the max ChangeSet HLC of the last `changes`
// reply, or a snapshot's header HLC; `sent` (the reference's lastSentHLC) is the position of the
// last local page the server acknowledged. Both live in the replica's own key/value store, so they survive a
// restart together with the data they describe.
import { decodeHLC, encodeHLC, encodeSiteId, type HLC, type SiteId } from '@syncord/core';

export interface LocalKeyValue {
  getLocal(key: string): string | undefined;
  setLocal(key: string, value: string): void;
}

export class Watermarks {
  private readonly receivedKey: string;
  private readonly sentKey: string;

  constructor(
    private readonly store: LocalKeyValue,
    serverSiteId: SiteId,
  ) {
    const server = encodeSiteId(serverSiteId);
    this.receivedKey = `syncord.received.${server}`;
    this.sentKey = `syncord.sent.${server}`;
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

  /**
   * Like the received one, the sent watermark is exactly the max HLC of the last page pushed and
   * acknowledged (the replica recorded that position for this server). It can move down after a
   * snapshot re-inserted facts below it; the next push then re-sends a few facts the server
   * already holds, which it counts as duplicates.
   */
  setSent(hlc: HLC): void {
    this.store.setLocal(this.sentKey, encodeHLC(hlc));
  }

  private read(key: string): HLC | undefined {
    const text = this.store.getLocal(key);
    return text === undefined ? undefined : decodeHLC(text, key);
  }
}
