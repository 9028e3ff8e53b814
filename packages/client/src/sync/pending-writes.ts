// The app-facing count of local transactions the server has not acknowledged yet ("saved
// locally" rather than "synced"). It is taken from the store (a scan of what is left to send) when
// it starts and whenever the acknowledged position may have moved: an acknowledgement, a new
// server, a snapshot. Between those a local commit adds one, so a user's offline writes cost O(1)
// each instead of a scan that grows with the backlog. A commit that overwrote every value of an
// earlier unsent one therefore counts until the next scan, which drops the superseded one.
import { decodeSiteId, encodeSiteId, type SiteId } from '@syncord/core';
import type { LocalDatabase } from '../database/local-database.js';
import { unacknowledged } from './unacknowledged.js';
import { Watermarks } from './watermarks.js';

/** The last server this replica handshook with, persisted beside the watermarks it keys. */
const SERVER_KEY = 'syncord.server';
/** Requester for a replica that never met a server: a site nobody has, so nothing is left out. */
const NO_SERVER: SiteId = new Uint8Array(16);

export class PendingWrites {
  private value: number;
  private reported: number;
  private stale = false;
  private scheduled = false;

  constructor(
    private readonly db: LocalDatabase,
    private readonly batchSize: number,
    private readonly onChange: (count: number) => void,
  ) {
    this.value = this.recount();
    this.reported = this.value;
  }

  get count(): number {
    if (this.stale) {
      this.stale = false;
      this.value = this.recount();
    }
    return this.value;
  }

  /** Remembers the server a handshake succeeded with: the count is against its acknowledgements. */
  setServer(serverSiteId: SiteId): void {
    if (this.db.isClosed) return;
    this.db.replica.setLocal(SERVER_KEY, encodeSiteId(serverSiteId));
    this.invalidate();
  }

  /** `transactions` local commits were made. */
  committed(transactions: number): void {
    if (!this.stale) this.value += transactions;
    this.schedule();
  }

  /** The acknowledged position may have moved (an acknowledgement, a snapshot): scan again. */
  invalidate(): void {
    this.stale = true;
    this.schedule();
  }

  /** One report per burst of changes, once it is over. */
  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(() => {
      this.scheduled = false;
      const now = this.count;
      if (now === this.reported) return;
      this.reported = now;
      this.onChange(now);
    });
  }

  private recount(): number {
    const { db } = this;
    // A closed database cannot be read; its count stays what it was.
    if (db.isClosed) return this.value ?? 0;
    const stored = db.replica.getLocal(SERVER_KEY);
    const server = stored === undefined ? undefined : decodeSiteId(stored, SERVER_KEY);
    const position = server ? new Watermarks(db.replica, server) : undefined;
    return unacknowledged(db, server ?? NO_SERVER, position, this.batchSize).length;
  }
}
