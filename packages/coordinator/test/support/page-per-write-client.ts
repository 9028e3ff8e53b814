// A client that pushes the way the real Quereus client does (PROTOCOL.md §3.6): one apply_changes
// per local write or handshake, capped at its batch size, and nothing more when the ack arrives;
// it answers request_changes (§3.3) with an apply_changes without requestId holding its changes
// since `sinceHLC` not originated at `siteId`, only when there are any. Its local facts are plain
// change sets held in HLC order (what it has pushed or not is only its sent watermark).
import {
  compareHLC,
  decodeHLC,
  decodeSiteId,
  encodeSiteId,
  type ChangeSet,
  type HLC,
  type SiteId,
} from '@syncord/core';
import { wire } from './change-sets.js';
import { TestClient, type ServerJson } from './ws-client.js';

const sameSite = (a: SiteId, b: SiteId): boolean => a.length === b.length && a.every((byte, i) => byte === b[i]);

export class PagePerWriteClient {
  serverSiteId?: SiteId;
  /** The highest HLC an acknowledged (requestId-matched) push carried. */
  lastSentHLC?: HLC;
  /** Every request_changes received, and how many were answered with a page. */
  readonly requests: ServerJson[] = [];
  answered = 0;
  private nextRequest = 1;
  private readonly pending = new Map<string, HLC>();
  private readonly local: ChangeSet[];

  private constructor(
    readonly socket: TestClient,
    readonly siteId: SiteId,
    local: readonly ChangeSet[],
    readonly batchSize: number,
  ) {
    this.local = [...local].sort((a, b) => compareHLC(a.hlc, b.hlc));
  }

  /** Opens, handshakes, sends get_changes and its first push, as §3.6 does on handshake_ack. */
  static async connect(
    url: string,
    databaseId: string,
    siteId: SiteId,
    local: readonly ChangeSet[],
    batchSize = 1000,
  ): Promise<PagePerWriteClient> {
    const socket = await TestClient.open(url);
    const client = new PagePerWriteClient(socket, siteId, local, batchSize);
    const ack = await socket.handshake({ databaseId, siteId: encodeSiteId(siteId) });
    if (ack.type !== 'handshake_ack') throw new Error(`handshake refused: ${JSON.stringify(ack)}`);
    client.serverSiteId = decodeSiteId(ack['serverSiteId']);
    socket.send({ type: 'get_changes' });
    client.push();
    return client;
  }

  /** The real client's getChangesSince: whole transactions after `since` until `batchSize` data changes. */
  changesSince(exclude: SiteId, since?: HLC): ChangeSet[] {
    const page: ChangeSet[] = [];
    let changes = 0;
    for (const cs of this.local) {
      if (changes >= this.batchSize) break;
      if (since !== undefined && compareHLC(cs.hlc, since) <= 0) continue;
      if (sameSite(cs.siteId, exclude)) continue;
      page.push(cs);
      changes += cs.changes.length;
    }
    return page;
  }

  /** pushLocalChanges: one page from the sent watermark, with the next requestId. */
  push(): void {
    const page = this.changesSince(this.serverSiteId!, this.lastSentHLC);
    if (page.length === 0) return;
    const requestId = `apply-${this.nextRequest++}`;
    this.pending.set(requestId, page[page.length - 1]!.hlc);
    this.socket.send({ type: 'apply_changes', requestId, changes: page.map(wire) });
  }

  handle(message: ServerJson): void {
    if (message.type === 'apply_result') {
      const sent = typeof message['requestId'] === 'string' ? this.pending.get(message['requestId']) : undefined;
      if (sent === undefined) return; // an answer to a request_changes page: ignored, as §3.6 does
      this.pending.delete(message['requestId'] as string);
      if (this.lastSentHLC === undefined || compareHLC(sent, this.lastSentHLC) > 0) this.lastSentHLC = sent;
    } else if (message.type === 'request_changes') {
      this.requests.push(message);
      const exclude = decodeSiteId(message['siteId']);
      const since = message['sinceHLC'] === undefined ? undefined : decodeHLC(message['sinceHLC']);
      const page = this.changesSince(exclude, since);
      if (page.length === 0) return;
      this.answered++;
      this.socket.send({ type: 'apply_changes', changes: page.map(wire) });
    } else if (message.type === 'error') {
      throw new Error(`server error: ${JSON.stringify(message)}`);
    }
  }

  /** Handles messages until a ping round trip finds nothing left to answer (bounded by `rounds`). */
  async settle(rounds = 100): Promise<void> {
    for (let i = 0; i < rounds; i++) {
      const seen = await this.socket.drain();
      if (seen.length === 0) return;
      for (const message of seen) this.handle(message);
    }
    throw new Error(`still busy after ${rounds} round trips`);
  }
}
