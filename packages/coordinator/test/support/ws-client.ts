// A small WebSocket test client: sends raw JSON or text, and awaits typed server messages in
// arrival order (every wait is bounded).
import { WebSocket, type ClientOptions } from 'ws';

export type ServerJson = Record<string, unknown> & { type: string };

export interface CloseInfo {
  readonly code: number;
  readonly reason: string;
}

const WAIT_MS = 5_000;

export class TestClient {
  private readonly inbox: ServerJson[] = [];
  private waiter?: () => void;
  readonly closed: Promise<CloseInfo>;

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data) => {
      this.inbox.push(JSON.parse(String(data)) as ServerJson);
      this.waiter?.();
    });
    this.closed = new Promise((resolve) =>
      socket.on('close', (code, reason) => {
        resolve({ code, reason: reason.toString() });
        this.waiter?.();
      }),
    );
  }

  static async open(url: string, options?: ClientOptions): Promise<TestClient> {
    const socket = new WebSocket(url, options);
    // Listening before 'open': a message that arrives with the upgrade response is emitted at once.
    const client = new TestClient(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    return client;
  }

  send(message: unknown): void {
    this.socket.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  /** The next message (of `type`, when given: other types before it are an error). */
  async next(type?: string): Promise<ServerJson> {
    const deadline = Date.now() + WAIT_MS;
    while (this.inbox.length === 0) {
      if (this.socket.readyState === WebSocket.CLOSED)
        throw new Error(`socket closed while waiting for ${type ?? 'a message'}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${type ?? 'a message'}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.waiter = undefined;
    }
    const message = this.inbox.shift()!;
    if (type !== undefined && message.type !== type) {
      throw new Error(`expected ${type}, got ${JSON.stringify(message).slice(0, 300)}`);
    }
    return message;
  }

  /** The next message of `type`, skipping (and dropping) any others before it. */
  async waitFor(type: string): Promise<ServerJson> {
    for (;;) {
      const message = await this.next();
      if (message.type === type) return message;
    }
  }

  /** Round-trips a ping: everything the server queued for us before it is returned. */
  async drain(): Promise<ServerJson[]> {
    this.send({ type: 'ping' });
    const seen: ServerJson[] = [];
    for (;;) {
      const message = await this.next();
      if (message.type === 'pong') return seen;
      seen.push(message);
    }
  }

  async handshake(fields: Record<string, unknown>): Promise<ServerJson> {
    this.send({ type: 'handshake', protocolVersion: 1, ...fields });
    return this.next();
  }

  async close(): Promise<void> {
    if (this.socket.readyState === WebSocket.OPEN || this.socket.readyState === WebSocket.CONNECTING) {
      this.socket.close();
    }
    await this.closed;
  }
}
