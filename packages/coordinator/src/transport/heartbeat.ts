// Liveness (DESIGN item 3): every interval each WebSocket gets a protocol ping; one whose pong has
// not come back by the next tick is terminated, and its close event releases its session. TCP
// alone may take hours to notice a peer that vanished.
import type { WebSocket } from 'ws';

export class Heartbeat {
  /** Socket → pong received since the last ping. */
  private readonly alive = new Map<WebSocket, boolean>();
  private readonly timer: ReturnType<typeof setInterval>;
  // One pair of listeners for every socket (the socket is `this` in them): per-socket closures
  // would cost each idle connection a function, a context and a `once` wrapper.
  private readonly onPong: (this: WebSocket) => void;
  private readonly onClose: (this: WebSocket) => void;

  constructor(
    intervalMs: number,
    private readonly onDead: (socket: WebSocket) => void,
  ) {
    const alive = this.alive;
    this.onPong = function (this: WebSocket) {
      if (alive.has(this)) alive.set(this, true);
    };
    this.onClose = function (this: WebSocket) {
      alive.delete(this);
    };
    this.timer = setInterval(() => this.tick(), intervalMs);
    this.timer.unref();
  }

  watch(socket: WebSocket): void {
    this.alive.set(socket, true);
    socket.on('pong', this.onPong);
    socket.on('close', this.onClose);
  }

  get watched(): number {
    return this.alive.size;
  }

  private tick(): void {
    for (const [socket, answered] of this.alive) {
      if (!answered) {
        this.alive.delete(socket);
        this.onDead(socket);
        socket.terminate();
        continue;
      }
      this.alive.set(socket, false);
      try {
        socket.ping();
      } catch {
        // Not open any more: its close event is on the way and removes it.
      }
    }
  }

  stop(): void {
    clearInterval(this.timer);
    this.alive.clear();
  }
}
