// Reconnect delays: exponential with full jitter (delay = random(0, min(cap, base·2^attempt))), so
// a restarted server is not hit by every client at the same instant. The attempt count is reset
// only after a successful handshake: a server that accepts sockets and then drops them keeps
// backing off instead of being retried at the base delay forever.

export interface BackoffOptions {
  /** First delay ceiling in ms. Default 500. */
  readonly baseDelayMs?: number;
  /** Largest delay ceiling in ms. Default 30 000. */
  readonly maxDelayMs?: number;
  /** Random source in [0, 1); injectable for tests. Default Math.random. */
  readonly random?: () => number;
}

export const DEFAULT_BACKOFF = { baseDelayMs: 500, maxDelayMs: 30_000 } as const;

export class Backoff {
  private attempts = 0;
  private readonly base: number;
  private readonly cap: number;
  private readonly random: () => number;

  constructor(options: BackoffOptions = {}) {
    this.base = options.baseDelayMs ?? DEFAULT_BACKOFF.baseDelayMs;
    this.cap = options.maxDelayMs ?? DEFAULT_BACKOFF.maxDelayMs;
    this.random = options.random ?? Math.random;
    if (!(this.base > 0) || !(this.cap >= this.base)) {
      throw new RangeError(`Backoff needs 0 < baseDelayMs <= maxDelayMs, got ${this.base} and ${this.cap}`);
    }
  }

  /** The ceiling of the next delay (before jitter). */
  ceiling(): number {
    // 2^attempts overflows to Infinity long after it passes any sane cap; min() handles it.
    return Math.min(this.cap, this.base * 2 ** this.attempts);
  }

  /** The next delay in ms, and counts the attempt. */
  next(): number {
    const delay = Math.floor(this.random() * this.ceiling());
    this.attempts++;
    return delay;
  }

  reset(): void {
    this.attempts = 0;
  }

  /** Sets the attempt count back to `attempts` (undoing a reset that proved premature). */
  restore(attempts: number): void {
    this.attempts = Math.max(this.attempts, attempts);
  }

  get attemptCount(): number {
    return this.attempts;
  }
}
