// Per-connection message rate (a token bucket): `burst` messages at once, `ratePerSecond`
// sustained. A message without a token is dropped (RATE_LIMITED) and still counts, so a client
// that keeps flooding sinks into debt; `burst` messages in debt it is closed.

export type RateDecision = 'accept' | 'drop' | 'close';

// One clock for every limiter: a default `() => performance.now()` would be a closure per socket.
const monotonicNow = (): number => performance.now();

export class MessageRateLimiter {
  private tokens: number;
  private last: number;

  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number,
    private readonly now: () => number = monotonicNow,
  ) {
    this.tokens = burst;
    this.last = now();
  }

  take(): RateDecision {
    const now = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) * this.ratePerSecond) / 1000);
    this.last = now;
    this.tokens -= 1;
    if (this.tokens >= 0) return 'accept';
    return this.tokens > -this.burst ? 'drop' : 'close';
  }
}
