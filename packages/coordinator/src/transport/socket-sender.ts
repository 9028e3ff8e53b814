// Sending on one WebSocket with bounded memory (DESIGN item 2): streams wait for the socket to
// drain above a high-water mark, and a consumer so far behind that even broadcasts pile up past
// maxBufferedBytes is closed, to catch up on reconnect.
import { WebSocket } from 'ws';

export interface SocketSenderOptions {
  /** Buffered bytes above which a stream waits for the socket to drain. */
  readonly highWaterBytes: number;
  /** Buffered bytes above which an unsolicited send closes the socket instead. */
  readonly maxBufferedBytes: number;
}

export const DEFAULT_SENDER_OPTIONS: SocketSenderOptions = {
  highWaterBytes: 1024 * 1024,
  maxBufferedBytes: 64 * 1024 * 1024,
};

/** Close code used when a consumer stays too far behind (1013 "Try Again Later"). */
export const TOO_FAR_BEHIND = { code: 1013, reason: 'Too far behind; reconnect to catch up' } as const;

export class SocketNotOpenError extends Error {
  override readonly name = 'SocketNotOpenError';
  constructor() {
    super('WebSocket is not open');
  }
}

export class SocketSender {
  constructor(
    private readonly socket: WebSocket,
    private readonly options: SocketSenderOptions = DEFAULT_SENDER_OPTIONS,
  ) {}

  get isOpen(): boolean {
    return this.socket.readyState === WebSocket.OPEN;
  }

  /** Queues one text frame now; throws if the socket is closed or hopelessly behind. */
  send(text: string): void {
    if (!this.isOpen) throw new SocketNotOpenError();
    if (this.socket.bufferedAmount > this.options.maxBufferedBytes) {
      this.socket.close(TOO_FAR_BEHIND.code, TOO_FAR_BEHIND.reason);
      throw new Error(`Consumer too far behind (${this.socket.bufferedAmount} bytes buffered)`);
    }
    this.socket.send(text);
  }

  /**
   * Sends one frame of a stream. When the frame would take the buffer past the high-water mark it
   * resolves only once the frame has been written out, so a stream never buffers more than the
   * mark or one frame, whichever is larger.
   */
  async sendPaced(text: string): Promise<void> {
    if (!this.isOpen) throw new SocketNotOpenError();
    if (this.socket.bufferedAmount + text.length <= this.options.highWaterBytes) {
      this.socket.send(text);
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
    });
  }
}
