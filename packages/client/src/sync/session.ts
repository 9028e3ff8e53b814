// One connection's life: open, handshake, bootstrap by snapshot when needed, catch up with
// get_changes until a reply comes back empty, push local transactions, apply live broadcasts, and
// end when the socket closes. Reconnecting is the SyncClient's job; a session never reopens.
import {
  compareHLC,
  PROTOCOL_VERSION,
  type ChangeSet,
  type ErrorMessage,
  type HandshakeAckMessage,
  type HLC,
  type ServerMessage,
  type SiteId,
  type SnapshotCheckpoint,
  type UnknownServerMessage,
} from '@syncord/core';
import { Channel, ConnectionClosed } from './channel.js';
import { Pusher } from './pusher.js';
import { SnapshotFeed } from './snapshot-feed.js';
import type { SessionEnd, SessionHost } from './session-host.js';
import { SyncError } from './status.js';
import { Watermarks } from './watermarks.js';

interface Connected {
  readonly serverSiteId: SiteId;
  readonly watermarks: Watermarks;
  readonly pusher: Pusher;
}

export class SyncSession {
  private readonly channel: Channel;
  private feed: SnapshotFeed | undefined;
  private conn: Connected | undefined;
  private caughtUp = false;
  private live = false;
  private fatal: SyncError | undefined;
  private readonly reported = new WeakSet<Error>();
  private unsubscribe: (() => void) | undefined;

  constructor(private readonly host: SessionHost) {
    this.channel = new Channel(
      {
        onMessage: (msg) => this.dispatch(msg),
        onMalformed: (err) =>
          this.fail(new SyncError('PROTOCOL_ERROR', `Malformed message from the server: ${messageOf(err)}`)),
        onEnd: () => {
          this.feed?.interrupt('connection closed');
          this.conn?.pusher.stop();
        },
      },
      host.options.heartbeatMs,
    );
  }

  async run(): Promise<SessionEnd> {
    this.host.setStatus({ state: 'connecting' });
    try {
      await this.channel.open(await this.host.socketFactory(), this.host.target.url);
      const conn = await this.handshake();
      await this.bootstrapIfNeeded(conn);
      this.live = true;
      conn.pusher.schedule(0);
      await this.catchUp(conn);
      this.caughtUp = true;
      this.refreshStatus();
      await this.channel.closed;
    } catch (err) {
      if (!(err instanceof ConnectionClosed)) {
        const error = toSyncError(err);
        this.report(error);
        if (error.fatal) this.fatal ??= error;
      }
      this.channel.end();
    } finally {
      this.unsubscribe?.();
      this.conn?.pusher.stop();
    }
    return { handshaken: this.conn !== undefined, ...(this.fatal ? { fatal: this.fatal } : {}) };
  }

  /** Ends the connection (disconnect). */
  close(): void {
    this.channel.end(1000, 'Client disconnect');
  }

  private async handshake(): Promise<Connected> {
    const { db, target, options } = this.host;
    this.channel.send({
      type: 'handshake',
      databaseId: target.databaseId,
      siteId: db.siteId,
      ...(target.token !== undefined ? { token: target.token } : {}),
      protocolVersion: PROTOCOL_VERSION,
    });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new SyncError('HANDSHAKE_TIMEOUT', `No handshake_ack within ${options.handshakeTimeoutMs} ms`)),
        options.handshakeTimeoutMs,
      );
    });
    let ack: HandshakeAckMessage;
    try {
      ack = await Promise.race([this.channel.handshakeAck(), timeout]);
    } finally {
      clearTimeout(timer);
    }
    if (ack.protocolVersion !== PROTOCOL_VERSION) {
      throw new SyncError(
        'PROTOCOL_VERSION_MISMATCH',
        `Server speaks protocol ${ack.protocolVersion}, this client ${PROTOCOL_VERSION}`,
        true,
      );
    }
    const watermarks = new Watermarks(db.replica, ack.serverSiteId);
    const pusher = new Pusher(
      db,
      ack.serverSiteId,
      watermarks,
      { apply: (sets) => this.channel.apply(this.host.nextRequestId(), sets) },
      {
        batchSize: options.batchSize,
        debounceMs: options.pushDebounceMs,
        onRejected: (r) => this.host.reportRejected(r),
        onError: (err) => this.fail(err),
        onActivity: () => this.refreshStatus(),
      },
    );
    const conn: Connected = { serverSiteId: ack.serverSiteId, watermarks, pusher };
    this.conn = conn;
    this.unsubscribe = db.subscribe((change) => {
      if (change.source !== 'local' || this.channel.isEnded) return;
      if (this.live && !this.feed) pusher.schedule();
      this.refreshStatus();
    });
    this.host.handshakeSucceeded(ack.serverSiteId);
    this.refreshStatus();
    return conn;
  }

  /**
   * §3.6 maybeBootstrap: resume an interrupted snapshot, or take one when this replica has
   * nothing from this server and nothing from any other site (own writes are pushed first).
   */
  private async bootstrapIfNeeded(conn: Connected): Promise<void> {
    const checkpoint = this.host.db.replica.pendingCheckpoint();
    if (checkpoint) return this.bootstrap(conn, checkpoint);
    if (!this.host.options.bootstrapOnEmpty || conn.watermarks.received()) return;
    const { replica } = this.host.db;
    const foreign = replica.getChangesSince(replica.siteId, undefined, { batchSize: 1 });
    if (foreign.length === 0) await this.bootstrap(conn);
  }

  private async bootstrap(conn: Connected, resume?: SnapshotCheckpoint): Promise<void> {
    // The snapshot replaces the replica: local writes the server lacks would be wiped, so they
    // are pushed first. The check and the request share one synchronous step, so no write can
    // slip between them; writes after it are kept by LocalDatabase.applySnapshot.
    do await conn.pusher.flush();
    while (conn.pusher.hasPending());
    const feed = new SnapshotFeed(this.host.options.snapshotChunkTimeoutMs);
    this.feed = feed;
    this.channel.send(resume ? { type: 'resume_snapshot', checkpoint: resume } : { type: 'get_snapshot' });
    const applying = this.host.db.applySnapshot(feed, {
      onProgress: (p) => {
        // After a drop the received chunks still apply, but the status already says offline.
        if (this.feed === feed && !this.channel.isEnded) this.host.setStatus({ state: 'bootstrapping', progress: p });
      },
    });
    const progress = { tablesProcessed: 0, totalTables: 0, entriesProcessed: 0, totalEntries: 0 };
    this.host.setStatus({ state: 'bootstrapping', progress });
    try {
      await applying;
    } catch (err) {
      feed.fail('snapshot apply failed');
      if (this.channel.isEnded) throw new ConnectionClosed();
      // The client closes the socket itself (§3.6); the reconnect resumes from the checkpoint.
      throw new SyncError('SNAPSHOT_FAILED', `Snapshot transfer failed: ${messageOf(err)}`, false, { cause: err });
    } finally {
      this.feed = undefined;
    }
    conn.watermarks.setReceived(feed.header!.hlc);
    this.refreshStatus();
  }

  /** get_changes from the received watermark, again after every non-empty reply. */
  private async catchUp(conn: Connected): Promise<void> {
    while (true) {
      const result = await this.channel.requestChanges(conn.watermarks.received());
      if (result === 'resync') {
        // The server can no longer delta-sync from our watermark (retention): start over from a snapshot.
        await this.bootstrap(conn);
        conn.pusher.schedule(0);
        continue;
      }
      if (result.changeSets.length === 0) return;
      this.applyIncoming(result.changeSets, true);
      const max = result.changeSets.reduce(
        (m, cs) => (compareHLC(cs.hlc, m) > 0 ? cs.hlc : m),
        result.changeSets[0]!.hlc,
      );
      conn.watermarks.setReceived(max);
    }
  }

  private applyIncoming(changeSets: readonly ChangeSet[], mustSucceed: boolean): void {
    try {
      this.host.db.applyRemote(changeSets);
    } catch (err) {
      const error = new SyncError(
        'APPLY_FAILED',
        `Could not apply ${changeSets.length} change set(s) from the server: ${messageOf(err)}`,
        false,
        { cause: err },
      );
      if (mustSucceed) throw error;
      // A refused broadcast (clock drift, say) is dropped; the next catch-up fetches it again.
      this.report(error);
    }
  }

  /** Messages that are not replies the channel settles itself. */
  private dispatch(msg: ServerMessage | UnknownServerMessage): void {
    switch (msg.type) {
      case 'push_changes':
        // Dropped while a snapshot streams: the catch-up after it fetches them again.
        if (this.live && !this.feed) this.applyIncoming(msg.changeSets, false);
        return;
      case 'snapshot_chunk':
        this.feed?.push(msg.chunk);
        return;
      case 'snapshot_complete':
        this.feed?.end();
        return;
      case 'error':
        this.onServerError(msg);
        return;
      case 'request_changes':
        this.answerRequestChanges(msg.siteId, msg.sinceHLC);
        return;
      case 'unknown':
        this.host.reportUnhandled(msg);
        return;
    }
  }

  private onServerError(msg: ErrorMessage): void {
    const error = new SyncError(msg.code, msg.message, msg.fatal);
    if (msg.code === 'RESYNC_REQUIRED' && this.channel.resync()) return;
    this.report(error);
    if (error.fatal) {
      this.fatal ??= error;
      this.channel.end();
      return;
    }
    if (msg.code === 'SNAPSHOT_ERROR') this.feed?.fail(msg.message);
    else if (msg.code === 'GET_CHANGES_ERROR') this.channel.failChanges(error);
    // One push is in flight at a time, so an apply error is its answer.
    else if (msg.code === 'APPLY_CHANGES_ERROR') this.channel.failApplies(error);
  }

  /** Peer-relay request (§3.3): our coordinator never sends it; answered as the real client does. */
  private answerRequestChanges(siteId: SiteId | undefined, since: HLC | undefined): void {
    if (!this.live || this.feed || !this.conn) return;
    const sets = this.host.db.replica.getChangesSince(siteId ?? this.conn.serverSiteId, since, {
      batchSize: this.host.options.batchSize,
    });
    if (sets.length > 0) this.channel.send({ type: 'apply_changes', changeSets: sets });
  }

  private refreshStatus(): void {
    if (this.channel.isEnded || !this.conn || this.feed) return;
    const synced = this.caughtUp && this.conn.pusher.idle;
    this.host.setStatus({ state: synced ? 'synced' : 'syncing' });
  }

  private report(error: SyncError): void {
    if (this.reported.has(error) || this.channel.isEnded) return;
    this.reported.add(error);
    this.host.reportError(error);
  }

  /** Something went wrong mid-session: report it and close, so the client reconnects. */
  private fail(err: unknown): void {
    if (err instanceof ConnectionClosed || this.channel.isEnded) return;
    const error = toSyncError(err);
    this.report(error);
    if (error.fatal) this.fatal ??= error;
    this.channel.end();
  }
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function toSyncError(err: unknown): SyncError {
  if (err instanceof SyncError) return err;
  return new SyncError('CLIENT_ERROR', messageOf(err), false, { cause: err });
}
