// Liveness (DESIGN item 3): every interval each WebSocket gets a protocol ping; one whose pong has
// not come back by the next tick is terminated, and its close event releases its session. TCP
// alone may take hours to notice a peer that vanished.
import type { WebSocket } from 'ws';

export class Heartbeat {
  /** Socket → pong received since the last ping. */
  private readonly alive = new Map<WebSocket, boolean>();
  private readonly timer: ReturnType<typeof setInterval>;

  constructor(
    intervalMs: number,
    private readonly onDead: (socket: WebSocket) => void,
  ) {
    this.timer = setInterval(() => this.tick(), intervalMs);
    this.timer.unref();
  }

  watch(socket: WebSocket): void {
    this.alive.set(socket, true);
    socket.on('pong', () => {
      if (this.alive.has(socket)) this.alive.set(socket, true);
    });
    socket.once('close', () => this.alive.delete(socket));
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
