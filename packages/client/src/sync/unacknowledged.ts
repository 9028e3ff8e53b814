// This replica's own transactions that the server has not acknowledged: what the pusher still has
// to send, what a bootstrap keeps, and what the app is shown as pending writes. Read without
// recording anything (the pages are looks, not replies to the server).
import { bytesEqual, compareHLC, type ChangeSet, type HLC, type SiteId } from '@syncord/core';
import type { LocalDatabase } from '../database/local-database.js';

/** Where the acknowledged part ends for one server (see Watermarks). */
export interface AckPosition {
  /** The highest own transaction the server acknowledged. */
  sent(): HLC | undefined;
  /** Where the scan for unacknowledged ones may start. */
  pushCursor(): HLC | undefined;
}

/** True for a transaction of ours above the acknowledged HLC. */
export function isUnacknowledged(db: LocalDatabase, cs: ChangeSet, sent: HLC | undefined): boolean {
  return bytesEqual(cs.siteId, db.replica.siteId) && (!sent || compareHLC(cs.hlc, sent) > 0);
}

/**
 * Every transaction of ours `server` has not acknowledged, as stored, oldest first. With no
 * position (never connected) that is every transaction of ours. Synchronous; writes nothing.
 */
export function unacknowledged(
  db: LocalDatabase,
  server: SiteId,
  position: AckPosition | undefined,
  batchSize: number,
): ChangeSet[] {
  const sent = position?.sent();
  const out: ChangeSet[] = [];
  // One cursor pages by itself; asking again from each page's max would need recorded replies.
  const cursor = db.replica.openChangesCursor(server, position?.pushCursor(), { batchSize, record: false });
  while (true) {
    const page = cursor.next();
    for (const cs of page.changeSets) if (isUnacknowledged(db, cs, sent)) out.push(cs);
    if (!page.more) return out;
  }
}
