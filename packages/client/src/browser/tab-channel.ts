// Tabs of one origin that opened the same database share their writes over a BroadcastChannel:
// each saved local transaction goes to every other tab at once, which merges it as a remote change
// (same HLCs, so it is the very same fact the server will relay later: merging it twice is a
// no-op). That works offline too. A tab that opens asks the others for what it missed while it
// was closed ('hello' with, per peer tab, the newest HLC it holds from it); each answers with its
// own transactions above that. Only a tab's own transactions travel, and each tab pushes only its
// own to the server, so nothing is pushed twice.
import {
  bytesEqual,
  compareHLC,
  decodeHLC,
  encodeHLC,
  fromHex,
  maxChangeSetHlc,
  toHex,
  type ChangeSet,
  type HLC,
} from '@syncord/core';
import type { LocalDatabase } from '../database/local-database.js';

type TabMessage =
  | { readonly type: 'commit'; readonly site: string; readonly changeSets: ChangeSet[] }
  | { readonly type: 'hello'; readonly site: string; readonly since: Record<string, string> }
  | { readonly type: 'catchup'; readonly to: string; readonly site: string; readonly changeSets: ChangeSet[] };

/** Local key holding, per peer tab's site (hex), the newest HLC received from it. */
const PEERS_KEY = 'syncord.tabs.peers';

export class TabChannel {
  private readonly channel: BroadcastChannel;
  private readonly site: string;
  private readonly stop: () => void;
  private posting: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(
    name: string,
    private readonly db: LocalDatabase,
    private readonly onError: (err: unknown) => void,
  ) {
    this.site = toHex(db.siteId);
    this.channel = new BroadcastChannel(`syncord:${name}`);
    this.channel.onmessage = (event: MessageEvent<TabMessage>) => {
      try {
        this.receive(event.data);
      } catch (err) {
        this.onError(err);
      }
    };
    this.stop = db.subscribe((change) => {
      if (change.source === 'local' && change.changeSets.length > 0) this.share([...change.changeSets]);
    });
    this.post({ type: 'hello', site: this.site, since: this.peers() });
  }

  /** Waits until every local transaction so far went to the other tabs. */
  flushed(): Promise<void> {
    return this.posting;
  }

  close(): void {
    this.closed = true;
    this.stop();
    this.channel.close();
  }

  /** Posts once saved, in commit order: another tab never holds a write this tab could lose. */
  private share(changeSets: ChangeSet[]): void {
    this.posting = this.posting
      .then(() => this.db.whenSaved())
      .then(
        () => this.post({ type: 'commit', site: this.site, changeSets }),
        () => {}, // not saved: the storage error is reported where it happened
      );
  }

  private post(message: TabMessage): void {
    if (!this.closed) this.channel.postMessage(message);
  }

  private receive(msg: TabMessage): void {
    if (this.closed || this.db.isClosed || msg.site === this.site) return;
    if (msg.type === 'commit') this.merge(msg.site, msg.changeSets);
    else if (msg.type === 'catchup' && msg.to === this.site) this.merge(msg.site, msg.changeSets);
    else if (msg.type === 'hello') this.answer(msg.site, msg.since[this.site]);
  }

  private merge(site: string, changeSets: ChangeSet[]): void {
    if (changeSets.length === 0) return;
    this.db.applyRemote(changeSets);
    const top = maxChangeSetHlc(changeSets)!;
    const peers = this.peers();
    const known = peers[site];
    if (!known || compareHLC(decodeHLC(known), top) < 0) {
      peers[site] = encodeHLC(top);
      this.db.replica.setLocal(PEERS_KEY, JSON.stringify(peers));
    }
  }

  /** Sends a tab that just opened this tab's own transactions above what it holds from here. */
  private answer(site: string, since: string | undefined): void {
    const from: HLC | undefined = since === undefined ? undefined : decodeHLC(since);
    const own = this.db.replica
      .getChangesSince(fromHex(site), from, { batchSize: Infinity })
      .filter((cs) => bytesEqual(cs.siteId, this.db.siteId));
    if (own.length > 0) this.post({ type: 'catchup', to: site, site: this.site, changeSets: own });
  }

  private peers(): Record<string, string> {
    const text = this.db.replica.getLocal(PEERS_KEY);
    return text === undefined ? {} : (JSON.parse(text) as Record<string, string>);
  }
}
