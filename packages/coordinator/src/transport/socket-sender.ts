// Sending on one WebSocket with bounded memory (DESIGN item 2): streams wait for the socket to
// drain above a high-water mark, and a consumer so far behind that replies and broadcasts pile up
// past maxBufferedBytes is closed, to catch up on reconnect. A socket's send buffer therefore never
// holds more than maxBufferedBytes plus the one message that crossed it.
import { WebSocket } from 'ws';

export interface SocketSenderOptions {
  /** Buffered bytes above which a stream waits for the socket to drain (limits.sendHighWaterBytes). */
  readonly highWaterBytes: number;
  /** Buffered bytes above which a send closes the socket instead (limits.maxBufferedBytes). */
  readonly maxBufferedBytes: number;
  /** Told the socket's buffered bytes after each frame is queued (the peak-buffer metric). */
  readonly onBuffered?: (bytes: number) => void;
  /** Told once, when the socket is closed for being too far behind. */
  readonly onTooFarBehind?: (bytes: number) => void;
}

/** Close code used when a consumer stays too far behind (1013 "Try Again Later"). */
export const TOO_FAR_BEHIND = { code: 1013, reason: 'Too far behind; reconnect to catch up' } as const;

export class SocketNotOpenError extends Error {
  override readonly name = 'SocketNotOpenError';
  constructor() {
    super('WebSocket is not open');
  }
}

/** The socket was closed (TOO_FAR_BEHIND) instead of taking one more frame. */
export class TooFarBehindError extends Error {
  override readonly name = 'TooFarBehindError';
  constructor(readonly bufferedBytes: number) {
    super(`Consumer too far behind (${bufferedBytes} bytes buffered)`);
  }
}

/** The TCP socket under the WebSocket, for coalescing writes. */
export interface Corkable {
  cork(): void;
  uncork(): void;
}

export class SocketSender {
  /**
   * Senders corked in the current tick, uncorked together by one nextTick callback: a broadcast
   * to many subscribers then queues one callback, not one per subscriber.
   */
  private static corkedThisTick: SocketSender[] = [];
  private corked = false;

  private static uncorkAll(): void {
    const senders = SocketSender.corkedThisTick;
    SocketSender.corkedThisTick = [];
    for (const sender of senders) {
      sender.corked = false;
      sender.tcp?.uncork();
    }
  }

  /**
   * With `tcp`, frames sent in one tick of the event loop leave in one write: a group commit
   * broadcasts several pushes at once, and one syscall per subscriber instead of one per push is
   * what keeps the server ahead of its writers (on loopback the syscall also does the peer's
   * receive work, so it is the main cost of a fanout).
   */
  constructor(
    private readonly socket: WebSocket,
    private readonly options: SocketSenderOptions,
    private readonly tcp?: Corkable,
  ) {}

  get isOpen(): boolean {
    return this.socket.readyState === WebSocket.OPEN;
  }

  /** Queues one text frame now; throws if the socket is closed or hopelessly behind. */
  send(text: string): void {
    this.admit();
    this.coalesce();
    this.socket.send(text);
    this.options.onBuffered?.(this.socket.bufferedAmount);
  }

  /** Holds writes until the current tick's work (its other broadcasts included) is done. */
  private coalesce(): void {
    const tcp = this.tcp;
    if (!tcp || this.corked) return;
    this.corked = true;
    tcp.cork();
    if (SocketSender.corkedThisTick.length === 0) process.nextTick(SocketSender.uncorkAll);
    SocketSender.corkedThisTick.push(this);
  }

  /** Every frame is queued only while at most maxBufferedBytes wait, which bounds the buffer. */
  private admit(): void {
    if (!this.isOpen) throw new SocketNotOpenError();
    const buffered = this.socket.bufferedAmount;
    if (buffered <= this.options.maxBufferedBytes) return;
    this.socket.close(TOO_FAR_BEHIND.code, TOO_FAR_BEHIND.reason);
    this.options.onTooFarBehind?.(buffered);
    throw new TooFarBehindError(buffered);
  }

  /**
   * Sends one frame of a stream. When the frame would take the buffer past the high-water mark it
   * resolves only once the frame has been written out, so a stream never buffers more than the
   * mark or one frame, whichever is larger.
   */
  async sendPaced(text: string): Promise<void> {
    this.admit();
    if (this.socket.bufferedAmount + text.length <= this.options.highWaterBytes) {
      this.socket.send(text);
      this.options.onBuffered?.(this.socket.bufferedAmount);
      return;
    }
    await new Promise<void>((resolve, reject) => {
      const onClose = () => reject(new SocketNotOpenError());
      this.socket.once('close', onClose);
      this.socket.send(text, (err) => {
        this.socket.off('close', onClose);
        if (err) reject(err);
        else resolve();
      });
      this.options.onBuffered?.(this.socket.bufferedAmount);
    });
  }
}
