import { MAX_COUNTER, type HLC } from './hlc.js';
import type { SiteId } from './site-id.js';

/** A remote HLC more than this far ahead of local physical time is refused (PROTOCOL.md §7). */
export const MAX_DRIFT_MS = 60_000;

export class ClockDriftError extends Error {
  override readonly name = 'ClockDriftError';
  constructor(
    readonly remoteWallTime: bigint,
    readonly localNow: bigint,
  ) {
    super(
      `Clock drift too large: remote wallTime ${remoteWallTime} is more than ${MAX_DRIFT_MS} ms ahead of ${localNow}`,
    );
  }
}

export type NowFn = () => number;

/** Throws ClockDriftError when `wallTime` lies beyond now + MAX_DRIFT_MS. */
export function checkDrift(wallTime: bigint, now: number): void {
  const n = BigInt(now);
  if (wallTime > n + BigInt(MAX_DRIFT_MS)) throw new ClockDriftError(wallTime, n);
}

/** The clock state of one replica: (wallTime, counter) under a fixed site id. */
export class HybridClock {
  private wall: bigint;
  private count: number;

  constructor(
    readonly siteId: SiteId,
    state: { wallTime: bigint; counter: number } = { wallTime: 0n, counter: 0 },
    private readonly nowFn: NowFn = Date.now,
  ) {
    this.wall = state.wallTime;
    this.count = state.counter;
  }

  /** Current value without advancing (opSeq 0). */
  now(): HLC {
    return { wallTime: this.wall, counter: this.count, siteId: this.siteId, opSeq: 0 };
  }

  /** The value a tick would start from now: the state, or the physical time when that is later. */
  reading(): HLC {
    const now = BigInt(this.nowFn());
    return now > this.wall ? { wallTime: now, counter: 0, siteId: this.siteId, opSeq: 0 } : this.now();
  }

  state(): { wallTime: bigint; counter: number } {
    return { wallTime: this.wall, counter: this.count };
  }

  /** Local event: one tick per transaction; its facts take opSeq 0, 1, 2, … */
  tick(): HLC {
    const now = BigInt(this.nowFn());
    if (now > this.wall) {
      this.wall = now;
      this.count = 0;
    } else {
      this.count++;
    }
    this.rollOver();
    return this.now();
  }

  /**
   * Merge a remote timestamp into the clock; throws ClockDriftError past the drift gate unless
   * `drift` is 'checked' (whoever passed the fact on checked it against its own clock).
   */
  receive(remote: { wallTime: bigint; counter: number }, drift: 'check' | 'checked' = 'check'): void {
    const nowMs = this.nowFn();
    if (drift === 'check') checkDrift(remote.wallTime, nowMs);
    const now = BigInt(nowMs);
    const lw = this.wall;
    const rw = remote.wallTime;
    let m = lw > rw ? lw : rw;
    if (now > m) m = now;
    if (m === lw && m === rw) {
      this.count = Math.max(this.count, remote.counter) + 1;
    } else if (m === lw) {
      this.count++;
    } else if (m === rw) {
      this.wall = rw;
      this.count = remote.counter + 1;
    } else {
      this.wall = now;
      this.count = 0;
    }
    this.rollOver();
  }

  private rollOver(): void {
    if (this.count > MAX_COUNTER) {
      this.wall++;
      this.count = 0;
    }
  }
}
