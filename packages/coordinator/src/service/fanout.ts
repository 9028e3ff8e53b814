// Broadcast of applied change sets to the other sites of a database (PROTOCOL.md §6.5). It goes
// through this small interface so a later multi-node deployment can put a message bus behind it
// (DESIGN "Later"); the in-process one below is the default.
import { bytesEqual, type SiteId } from '@syncord/core';

/** One live session that wants the database's broadcasts. */
export interface FanoutSubscriber {
  /** Broadcasts that originate at this site are not delivered to it. */
  readonly siteId: SiteId;
  /** Sends the encoded `push_changes` message; throwing counts as a failed delivery. */
  deliver(message: string): void;
}

export interface FanoutReport {
  /** Subscribers the message was handed to. */
  readonly delivered: number;
  /** Subscribers whose delivery threw; nobody else is affected. */
  readonly failed: number;
}

export interface Fanout {
  /** Returns the unsubscribe function (idempotent). */
  subscribe(databaseId: string, subscriber: FanoutSubscriber): () => void;
  /**
   * Delivers the message to every subscriber of the database except `origin`'s site. Given as a
   * function, it is encoded once, and only when there is a recipient; if encoding throws, nothing
   * is delivered and publish rethrows.
   */
  publish(databaseId: string, origin: SiteId, message: string | (() => string)): FanoutReport;
}

export class InProcessFanout implements Fanout {
  private readonly byDatabase = new Map<string, Set<FanoutSubscriber>>();

  subscribe(databaseId: string, subscriber: FanoutSubscriber): () => void {
    let set = this.byDatabase.get(databaseId);
    if (!set) this.byDatabase.set(databaseId, (set = new Set()));
    set.add(subscriber);
    return () => {
      const current = this.byDatabase.get(databaseId);
      if (!current?.delete(subscriber)) return;
      if (current.size === 0) this.byDatabase.delete(databaseId);
    };
  }

  publish(databaseId: string, origin: SiteId, message: string | (() => string)): FanoutReport {
    let delivered = 0;
    let failed = 0;
    const subscribers = this.byDatabase.get(databaseId);
    if (!subscribers) return { delivered, failed };
    let text = typeof message === 'string' ? message : undefined;
    // A copy: a failed send may close a socket, which unsubscribes while we iterate.
    for (const subscriber of [...subscribers]) {
      if (bytesEqual(subscriber.siteId, origin)) continue;
      text ??= (message as () => string)();
      try {
        subscriber.deliver(text);
        delivered++;
      } catch {
        failed++;
      }
    }
    return { delivered, failed };
  }

  subscriberCount(databaseId: string): number {
    return this.byDatabase.get(databaseId)?.size ?? 0;
  }
}
