// Messages of one connection are handled strictly in arrival order (the reference ran them
// concurrently, so replies raced). Past a depth the socket is paused, so a client that floods
// messages is held back by TCP instead of by server memory.

/** What the queue tells its owner (methods, so an idle connection's queue holds no closures). */
export interface SerialQueueEvents {
  /** `highWater` tasks are queued. */
  onBusy(): void;
  /** Back below `highWater`. */
  onIdle(): void;
  onError(err: unknown): void;
}

/** Shared by every idle queue, so one that has drained keeps no promise of its own. */
const IDLE: Promise<void> = Promise.resolve();

export class SerialQueue {
  private tail = IDLE;
  private depth = 0;
  private stopped = false;
  private busy = false;

  constructor(
    private readonly highWater: number,
    private readonly events: SerialQueueEvents,
  ) {}

  push(task: () => Promise<void>): void {
    if (this.stopped) return;
    this.depth++;
    if (!this.busy && this.depth >= this.highWater) {
      this.busy = true;
      this.events.onBusy();
    }
    this.tail = this.tail
      .then(() => (this.stopped ? undefined : task()))
      .catch((err: unknown) => this.events.onError(err))
      .finally(() => {
        // Nothing queued behind this task: drop the chain, the next task starts from IDLE.
        if (--this.depth === 0) this.tail = IDLE;
        if (this.busy && this.depth < this.highWater) {
          this.busy = false;
          this.events.onIdle();
        }
      });
  }

  /** Drops whatever has not started yet. */
  stop(): void {
    this.stopped = true;
  }
}
