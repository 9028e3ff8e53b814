// Turns `snapshot_chunk` messages into the async stream the engine's applySnapshot consumes.
// Messages arrive faster than the engine may consume them, so chunks queue here; the queue ends on
// `snapshot_complete` and fails when the transfer is aborted (socket closed, SNAPSHOT_ERROR, a
// fatal error, or the stall watchdog: no chunk for `stallTimeoutMs`).
import type { SnapshotChunk, SnapshotHeader } from '@syncord/core';

/** Queued after the last chunk that arrived before the connection dropped. */
const INTERRUPTED = Symbol('interrupted');

export class SnapshotAbortedError extends Error {
  override readonly name = 'SnapshotAbortedError';
}

export class SnapshotFeed implements AsyncIterable<SnapshotChunk> {
  private readonly queue: (SnapshotChunk | typeof INTERRUPTED)[] = [];
  private ended = false;
  private failure: Error | undefined;
  private wake: (() => void) | undefined;
  private watchdog: ReturnType<typeof setTimeout> | undefined;
  private headerChunk: SnapshotHeader | undefined;
  private interruption = '';

  constructor(private readonly stallTimeoutMs: number) {
    this.armWatchdog();
  }

  /** The header, once it has arrived: its HLC becomes the received watermark. */
  get header(): SnapshotHeader | undefined {
    return this.headerChunk;
  }

  get finished(): boolean {
    return this.ended || this.failure !== undefined;
  }

  push(chunk: SnapshotChunk): void {
    if (this.finished) return;
    if (chunk.type === 'header' && !this.headerChunk) this.headerChunk = chunk;
    this.queue.push(chunk);
    this.armWatchdog();
    this.notify();
  }

  /** `snapshot_complete`: the stream ends after the queued chunks. */
  end(): void {
    if (this.finished) return;
    this.ended = true;
    this.disarm();
    this.notify();
  }

  /** Abort now: what is queued is dropped (SNAPSHOT_ERROR, a fatal error, a stall). */
  fail(reason: string): void {
    if (this.finished) return;
    this.failure = new SnapshotAbortedError(reason);
    this.queue.length = 0;
    this.disarm();
    this.notify();
  }

  /**
   * The connection dropped: nothing more will arrive, but the chunks that did are sound, so the
   * engine applies them (checkpointing their tables) before the stream fails. The resume then
   * has less to fetch again.
   */
  interrupt(reason: string): void {
    if (this.finished) return;
    this.queue.push(INTERRUPTED);
    this.interruption = reason;
    this.ended = true;
    this.disarm();
    this.notify();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<SnapshotChunk> {
    try {
      while (true) {
        if (this.failure) throw this.failure;
        const next = this.queue.shift();
        if (next === INTERRUPTED) throw new SnapshotAbortedError(this.interruption);
        if (next) {
          yield next;
          // Chunks already queued would otherwise be applied back to back in microtasks, starving
          // the socket (a close would go unnoticed) and, in a browser, the page.
          await nextMacrotask();
          continue;
        }
        if (this.ended) return;
        await new Promise<void>((resolve) => (this.wake = resolve));
      }
    } finally {
      // The consumer stopped early (the engine threw): no watchdog may outlive the transfer.
      if (!this.finished) this.fail('snapshot consumer stopped');
    }
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  private armWatchdog(): void {
    this.disarm();
    this.watchdog = setTimeout(() => this.fail(`no snapshot chunk for ${this.stallTimeoutMs} ms`), this.stallTimeoutMs);
  }

  private disarm(): void {
    if (this.watchdog !== undefined) clearTimeout(this.watchdog);
    this.watchdog = undefined;
  }
}

function nextMacrotask(): Promise<void> {
  return new Promise((resolve) =>
    typeof setImmediate === 'function' ? setImmediate(resolve) : setTimeout(resolve, 0),
  );
}
