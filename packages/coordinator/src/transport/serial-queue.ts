// Messages of one connection are handled strictly in arrival order (the reference ran them
// concurrently, so replies raced). Past a depth the socket is paused, so a client that floods
// messages is held back by TCP instead of by server memory.

export interface SerialQueueOptions {
  /** Queued tasks at which `onBusy` is called (and below which `onIdle`). */
  readonly highWater: number;
  readonly onBusy: () => void;
  readonly onIdle: () => void;
  readonly onError: (err: unknown) => void;
}

export class SerialQueue {
  private tail: Promise<void> = Promise.resolve();
  private depth = 0;
  private stopped = false;
  private busy = false;

  constructor(private readonly options: SerialQueueOptions) {}

  push(task: () => Promise<void>): void {
    if (this.stopped) return;
    this.depth++;
    if (!this.busy && this.depth >= this.options.highWater) {
      this.busy = true;
      this.options.onBusy();
    }
    this.tail = this.tail
      .then(() => (this.stopped ? undefined : task()))
      .catch(this.options.onError)
      .finally(() => {
        this.depth--;
        if (this.busy && this.depth < this.options.highWater) {
          this.busy = false;
          this.options.onIdle();
        }
      });
  }

  /** Drops whatever has not started yet. */
  stop(): void {
    this.stopped = true;
  }
}
