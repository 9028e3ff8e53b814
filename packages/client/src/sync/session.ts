// One connection's life: open, handshake, bootstrap by snapshot when needed, catch up with
// get_changes, push local transactions, apply live broadcasts, and end when the socket closes.
// Reconnecting is the SyncClient's job; a session never reopens.
import {
  bytesEqual,
  maxChangeSetHlc,
  type ChangeSet,
  type ChangesMessage,
  type ErrorMessage,
  type HLC,
  type ServerMessage,
  type SiteId,
  type SnapshotCheckpoint,
  type UnknownServerMessage,
} from '@syncord/core';
import { Channel, ConnectionClosed } from './channel.js';
import { connectedTo, handshake, type Connected } from './handshake.js';
import { connectFailure, errorCause, type OfflineCause } from './offline-cause.js';
import { SnapshotFeed } from './snapshot-feed.js';
import type { SessionEnd, SessionHost } from './session-host.js';
import { SyncError } from './status.js';

/** Close codes of a server shedding load: 1013 Try Again Later, 4008 handshake timeout. */
const THROTTLE_CLOSE_CODES: ReadonlySet<number> = new Set([1013, 4008]);
/** Our own close after a RATE_LIMITED we could not match to a request. */
const RATE_LIMITED_CLOSE = { code: 4000, reason: 'Rate limited; reconnecting later' } as const;

export class SyncSession {
  private readonly channel: Channel;
  private feed: SnapshotFeed | undefined;
  private conn: Connected | undefined;
  private caughtUp = false;
  private live = false;
  private fatal: SyncError | undefined;
  private throttled = false;
  /** The error that ended the session, and the last one the server sent. */
  private endError: SyncError | undefined;
  private serverError: SyncError | undefined;
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
        this.endError ??= error;
        if (error.fatal) this.fatal ??= error;
      }
      this.channel.end();
    } finally {
      this.unsubscribe?.();
      this.conn?.pusher.stop();
    }
    const throttled = this.throttled || THROTTLE_CLOSE_CODES.has(this.channel.endCode ?? 0);
    const cause = this.cause();
    if (cause instanceof SyncError) {
      this.host.reportError(cause);
      this.fatal ??= cause;
    }
    return {
      handshaken: this.conn !== undefined,
      ...(this.fatal ? { fatal: this.fatal } : {}),
      ...(throttled ? { throttled } : {}),
      ...(cause && !(cause instanceof SyncError) ? { cause } : {}),
    };
  }

  /** Why the session ended: its error, the socket's failure to open, the server's last error, or the close. */
  private cause(): OfflineCause | SyncError | undefined {
    if (this.endError) return errorCause(this.endError);
    if (!this.channel.wasOpened) {
      return this.channel.failure === undefined
        ? undefined
        : connectFailure(this.channel.failure, this.host.target.url);
    }
    // 1006: the connection was lost, whatever the server said earlier.
    if (this.serverError && this.channel.endCode !== 1006) return errorCause(this.serverError);
    const code = this.channel.endCode;
    return {
      kind: 'closed',
      ...(code !== undefined ? { code } : {}),
      message: `Connection closed (${code ?? 'no code'})`,
    };
  }

  /** Ends the connection (disconnect). */
  close(): void {
    this.channel.end(1000, 'Client disconnect');
  }

  private async handshake(): Promise<Connected> {
    const ack = await handshake(this.channel, this.host);
    const conn = connectedTo(ack.serverSiteId, this.channel, this.host, {
      onError: (err) => this.fail(err),
      onActivity: () => this.refreshStatus(),
    });
    this.conn = conn;
    this.unsubscribe = this.host.db.subscribe((change) => {
      if (change.source !== 'local' || this.channel.isEnded) return;
      // Something new to push: a push the server refused is tried again (once) with it.
      conn.pusher.unpark();
      if (this.live && !this.feed) conn.pusher.schedule();
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
    // slip between them; writes after it are kept by LocalDatabase.applySnapshot. Writes the
    // server refuses (a user who may not write) are kept too, restored as they were.
    let keep: ChangeSet[] = [];
    while (true) {
      if ((await conn.pusher.flush()) === 'refused') {
        keep = conn.pusher.unacknowledged();
        break;
      }
      if (!conn.pusher.hasPending()) break;
    }
    const feed = new SnapshotFeed(this.host.options.snapshotChunkTimeoutMs);
    this.feed = feed;
    this.channel.send(resume ? { type: 'resume_snapshot', checkpoint: resume } : { type: 'get_snapshot' });
    const applying = this.host.db.applySnapshot(feed, {
      keep,
      // The first report comes with the header, its row total known: `bootstrapping` starts there.
      onProgress: (p) => {
        // After a drop the received chunks still apply, but the status already says offline.
        if (this.feed === feed && !this.channel.isEnded) this.host.setStatus({ state: 'bootstrapping', progress: p });
      },
    });
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

  /**
   * get_changes from the received watermark; each page is applied and moves the watermark to its
   * max, in order. A server that pages its reply (`more: true`) has sent everything once the last
   * page is in; one that does not (the reference coordinator) is asked again until a reply is empty.
   */
  private async catchUp(conn: Connected): Promise<void> {
    const onPage = (page: ChangesMessage): void => {
      if (page.changeSets.length === 0) return;
      this.applyIncoming(page.changeSets, true);
      conn.watermarks.setReceived(maxChangeSetHlc(page.changeSets)!);
    };
    while (true) {
      const result = await this.channel.requestChanges(conn.watermarks.received(), onPage);
      if (result === 'resync') {
        // The server can no longer delta-sync from our watermark (retention): start over from a snapshot.
        await this.bootstrap(conn);
        conn.pusher.schedule(0);
        continue;
      }
      if (result.paged || result.changeSets === 0) return;
    }
  }

  private applyIncoming(changeSets: readonly ChangeSet[], mustSucceed: boolean): void {
    try {
      this.conn?.serverMigrations.record(changeSets.flatMap((cs) => cs.schemaMigrations));
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
        if (msg.chunk.type === 'schema-migration') this.conn?.serverMigrations.record([msg.chunk.migration]);
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
    this.serverError = error;
    this.report(error);
    if (error.fatal) {
      this.fatal ??= error;
      this.channel.end();
      return;
    }
    if (msg.code === 'TOO_MANY_CONNECTIONS' || msg.code === 'RATE_LIMITED') this.throttled = true;
    // An error naming its request settles exactly that push (the pusher retries or parks).
    if (msg.requestId !== undefined && this.channel.failApply(String(msg.requestId), error)) return;
    if (msg.code === 'SNAPSHOT_ERROR') this.feed?.fail(msg.message);
    else if (msg.code === 'GET_CHANGES_ERROR') this.channel.failChanges(error);
    // One push is in flight at a time, so an apply error is its answer.
    else if (msg.code === 'APPLY_CHANGES_ERROR') this.channel.failApplies(error);
    else if (msg.code === 'RATE_LIMITED' && this.channel.awaitingReply) {
      // A dropped message we cannot name: its reply will never come. Waiting would hang and
      // guessing could settle the wrong request, so the connection is dropped and reopened later.
      this.channel.end(RATE_LIMITED_CLOSE.code, RATE_LIMITED_CLOSE.reason);
    }
  }

  /**
   * Peer-relay request (§3.3), answered as the real client does, except when it asks for what did
   * not originate at the server itself: that is our own backlog, which the pusher already sends
   * page by page as acknowledgements come; answering too would push every page twice.
   */
  private answerRequestChanges(siteId: SiteId | undefined, since: HLC | undefined): void {
    if (!this.live || this.feed || !this.conn) return;
    if (siteId !== undefined && bytesEqual(siteId, this.conn.serverSiteId)) return;
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
    this.endError ??= error;
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
