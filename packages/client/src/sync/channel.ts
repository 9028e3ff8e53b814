// The socket of one session and the replies awaited on it: open, send encoded messages, decode
// frames, and close exactly once, at which point everything still waiting is released.
import {
  decodeServerMessage,
  encodeClientMessage,
  type ApplyResultMessage,
  type ChangeSet,
  type ChangesMessage,
  type ClientMessage,
  type HandshakeAckMessage,
  type HLC,
  type ServerMessage,
  type UnknownServerMessage,
} from '@syncord/core';
import { Deferred } from '../util/deferred.js';
import { frameText, SOCKET_OPEN, type SocketFactory, type SocketLike } from './socket.js';

/** The connection ended; whatever waited on it stops quietly. */
export class ConnectionClosed extends Error {
  override readonly name = 'ConnectionClosed';
}

/**
 * How one get_changes ended: its pages were handed to `onPage` in order. `paged` is set when the
 * server's pages carry `more` (true on all but the last, false on the last), i.e. it serves the
 * whole catch-up for one request and its last page means caught up. Or the server's refusal to delta-sync from that watermark.
 */
export type ChangesReply = { readonly changeSets: number; readonly paged: boolean } | 'resync';

interface PendingChanges {
  readonly reply: Deferred<ChangesReply>;
  readonly onPage: (page: ChangesMessage) => void;
  changeSets: number;
  paged: boolean;
}

export interface ChannelHandler {
  /** Every decoded message that is not a reply the channel settled itself. */
  onMessage(msg: ServerMessage | UnknownServerMessage): void;
  onMalformed(err: unknown): void;
  /** Called once, when the channel ends for whatever reason. */
  onEnd(): void;
}

export class Channel {
  private socket: SocketLike | undefined;
  private readonly opened = new Deferred<void>();
  private readonly ended = new Deferred<void>();
  private readonly ack = new Deferred<HandshakeAckMessage>();
  private changes: PendingChanges | undefined;
  private closeCode: number | undefined;
  private readonly applies = new Map<string, Deferred<ApplyResultMessage>>();
  private done = false;
  private heartbeat: ReturnType<typeof setInterval> | undefined;
  private heard = true;
  private lastBeat = 0;
  private isOpen = false;
  private socketError: unknown;

  /** `heartbeatMs` > 0: ping at that interval and give up on a connection silent for two of them. */
  constructor(
    private readonly handler: ChannelHandler,
    private readonly heartbeatMs = 0,
  ) {}

  get isEnded(): boolean {
    return this.done;
  }

  /** The close code the socket ended with (the server's, or ours), once it has. */
  get endCode(): number | undefined {
    return this.closeCode;
  }

  /** The socket opened (the upgrade succeeded). */
  get wasOpened(): boolean {
    return this.isOpen;
  }

  /** The socket's error event (its `error` has the system code or HTTP status with `ws`), if any. */
  get failure(): unknown {
    return this.socketError;
  }

  /** A reply is awaited: a get_changes or an apply_changes is in flight. */
  get awaitingReply(): boolean {
    return this.changes !== undefined || this.applies.size > 0;
  }

  /** Resolves when the channel has ended. */
  get closed(): Promise<void> {
    return this.ended.promise;
  }

  async open(factory: SocketFactory, url: string): Promise<void> {
    if (this.done) throw new ConnectionClosed();
    const socket = factory(url);
    this.socket = socket;
    socket.onopen = () => {
      this.isOpen = true;
      this.opened.resolve();
    };
    socket.onmessage = (ev: { data: unknown }) => this.onFrame(ev.data);
    socket.onclose = (ev: { code?: number }) => {
      this.closeCode ??= ev?.code;
      this.end();
    };
    // A close event always follows; the error says why a connection failed to open.
    socket.onerror = (ev: unknown) => {
      this.socketError ??= ev;
    };
    await this.opened.promise;
    if (this.heartbeatMs > 0) {
      this.lastBeat = performance.now();
      this.heartbeat = setInterval(() => this.beat(), this.heartbeatMs);
    }
  }

  /**
   * A network that dies without a FIN leaves a socket open forever; browsers cannot send ping
   * frames, so the protocol's `ping` message (answered with `pong` by every coordinator) probes
   * it. Any frame counts as a sign of life.
   */
  private beat(): void {
    const now = performance.now();
    // A beat this late means our own event loop was blocked: frames may be waiting unread.
    const stalled = now - this.lastBeat > 1.5 * this.heartbeatMs;
    this.lastBeat = now;
    if (!this.heard && !stalled) {
      this.end(4000, 'Heartbeat timeout', true);
      return;
    }
    this.heard = false;
    try {
      this.send({ type: 'ping' });
    } catch {
      // ending anyway
    }
  }

  send(msg: ClientMessage): void {
    const socket = this.socket;
    if (this.done || !socket || socket.readyState !== SOCKET_OPEN) throw new ConnectionClosed();
    socket.send(encodeClientMessage(msg));
  }

  handshakeAck(): Promise<HandshakeAckMessage> {
    return this.ack.promise;
  }

  /**
   * Sends get_changes and hands each page of its reply to `onPage` as it arrives (synchronously,
   * in order; a throw fails the request); resolves after the page without `more`. One at a time.
   */
  async requestChanges(since: HLC | undefined, onPage: (page: ChangesMessage) => void): Promise<ChangesReply> {
    const pending: PendingChanges = { reply: new Deferred<ChangesReply>(), onPage, changeSets: 0, paged: false };
    this.changes = pending;
    try {
      this.send(since ? { type: 'get_changes', sinceHLC: since } : { type: 'get_changes' });
      return await pending.reply.promise;
    } finally {
      if (this.changes === pending) this.changes = undefined;
    }
  }

  /** Sends apply_changes and waits for the apply_result echoing `requestId`. */
  async apply(requestId: string, changeSets: readonly ChangeSet[]): Promise<ApplyResultMessage> {
    const reply = new Deferred<ApplyResultMessage>();
    this.applies.set(requestId, reply);
    try {
      this.send({ type: 'apply_changes', requestId, changeSets });
      return await reply.promise;
    } finally {
      this.applies.delete(requestId);
    }
  }

  /** The server refused the pending get_changes with RESYNC_REQUIRED; false if none was pending. */
  resync(): boolean {
    if (!this.changes) return false;
    this.changes.reply.resolve('resync');
    return true;
  }

  failChanges(err: Error): void {
    this.changes?.reply.reject(err);
  }

  /** Fails the push the server's error names by its requestId; false if none such is in flight. */
  failApply(requestId: string, err: Error): boolean {
    const reply = this.applies.get(requestId);
    reply?.reject(err);
    return reply !== undefined;
  }

  failApplies(err: Error): void {
    for (const reply of this.applies.values()) reply.reject(err);
  }

  /** Idempotent: closes the socket and releases everything that waits on the connection. */
  end(code = 1000, reason = '', dead = false): void {
    if (this.done) return;
    this.done = true;
    this.closeCode ??= code;
    clearInterval(this.heartbeat);
    try {
      // A dead peer never completes a close handshake: drop the socket where that is possible (ws).
      const terminate = dead ? (this.socket as { terminate?: () => void } | undefined)?.terminate : undefined;
      if (terminate) terminate.call(this.socket);
      else this.socket?.close(code, reason);
    } catch {
      // already closing
    }
    const closed = new ConnectionClosed();
    this.opened.reject(closed);
    this.ack.reject(closed);
    this.changes?.reply.reject(closed);
    this.failApplies(closed);
    this.handler.onEnd();
    this.ended.resolve();
  }

  private onFrame(data: unknown): void {
    if (this.done) return;
    this.heard = true;
    let msg: ServerMessage | UnknownServerMessage;
    try {
      msg = decodeServerMessage(frameText(data));
    } catch (err) {
      this.handler.onMalformed(err);
      return;
    }
    switch (msg.type) {
      case 'handshake_ack':
        this.ack.resolve(msg);
        return;
      case 'changes':
        this.onChangesPage(msg);
        return;
      case 'apply_result':
        if (msg.requestId !== undefined) this.applies.get(String(msg.requestId))?.resolve(msg);
        return;
      case 'pong':
        return;
      default:
        this.handler.onMessage(msg);
    }
  }

  private onChangesPage(page: ChangesMessage): void {
    const pending = this.changes;
    if (!pending) return; // nothing asked: a stray reply changes nothing
    try {
      pending.onPage(page);
    } catch (err) {
      this.changes = undefined;
      pending.reply.reject(err);
      return;
    }
    pending.changeSets += page.changeSets.length;
    // Any `more` field, true or false, says the server pages: its last page means caught up.
    if (page.more !== undefined) pending.paged = true;
    if (page.more === true) return;
    this.changes = undefined;
    pending.reply.resolve({ changeSets: pending.changeSets, paged: pending.paged });
  }
}
