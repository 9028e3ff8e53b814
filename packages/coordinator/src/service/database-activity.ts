// When each open database was last used and how fast changes arrive in it, for the admin page.
// Three numbers per database, forgotten when its store closes, so the cost follows the open
// databases and not every database the server ever served.

/** The arrival rate is averaged over about this long (an exponentially weighted mean). */
const RATE_WINDOW_MS = 60_000;

interface Entry {
  lastActivityAt: number;
  /** Changes per ms, decayed to `rateAt`. */
  rate: number;
  rateAt: number;
}

export interface ActivityView {
  /** ms time of the last session start, changes request, apply or snapshot. */
  readonly lastActivityAt: number;
  /** Changes applied per second, averaged over about the last minute. */
  readonly arrivalsPerSecond: number;
}

export class DatabaseActivity {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly now: () => number = Date.now) {}

  touch(databaseId: string): void {
    this.entry(databaseId).lastActivityAt = this.now();
  }

  /** `changes` data changes were applied to the database just now. */
  applied(databaseId: string, changes: number): void {
    const entry = this.entry(databaseId);
    const now = this.now();
    entry.lastActivityAt = now;
    entry.rate = this.decayed(entry, now) + changes / RATE_WINDOW_MS;
    entry.rateAt = now;
  }

  forget(databaseId: string): void {
    this.entries.delete(databaseId);
  }

  get(databaseId: string): ActivityView | undefined {
    const entry = this.entries.get(databaseId);
    if (!entry) return undefined;
    return { lastActivityAt: entry.lastActivityAt, arrivalsPerSecond: this.decayed(entry, this.now()) * 1000 };
  }

  get size(): number {
    return this.entries.size;
  }

  private entry(databaseId: string): Entry {
    let entry = this.entries.get(databaseId);
    if (!entry) {
      const now = this.now();
      entry = { lastActivityAt: now, rate: 0, rateAt: now };
      this.entries.set(databaseId, entry);
    }
    return entry;
  }

  private decayed(entry: Entry, now: number): number {
    return entry.rate * Math.exp(-Math.max(0, now - entry.rateAt) / RATE_WINDOW_MS);
  }
}
