// The token bucket on a clock the test moves: exact accept / drop / close boundaries.
import { describe, expect, it } from 'vitest';
import { MessageRateLimiter, type RateDecision } from './rate-limiter.js';

function limiter(rate: number, burst: number): { take: (n: number) => RateDecision[]; advance: (ms: number) => void } {
  let now = 0;
  const bucket = new MessageRateLimiter(rate, burst, () => now);
  return {
    take: (n) => Array.from({ length: n }, () => bucket.take()),
    advance: (ms) => void (now += ms),
  };
}

describe('MessageRateLimiter', () => {
  it('accepts a burst, drops the next ones, and closes once a burst in debt', () => {
    const l = limiter(10, 4);
    expect(l.take(4)).toEqual(['accept', 'accept', 'accept', 'accept']);
    expect(l.take(3)).toEqual(['drop', 'drop', 'drop']);
    expect(l.take(1)).toEqual(['close']);
  });

  it('refills at the rate, never above the burst, and makes a client repay dropped messages', () => {
    const l = limiter(10, 4);
    l.take(4);
    l.advance(100); // one token
    expect(l.take(2)).toEqual(['accept', 'drop']);
    l.advance(10_000); // far more than the burst
    expect(l.take(5)).toEqual(['accept', 'accept', 'accept', 'accept', 'drop']);
    // One in debt: the next token only clears the debt.
    l.advance(100);
    expect(l.take(1)).toEqual(['drop']);
  });

  it('never limits a client that stays at the rate', () => {
    const l = limiter(10, 1);
    for (let i = 0; i < 1000; i++) {
      expect(l.take(1)).toEqual(['accept']);
      l.advance(100);
    }
  });
});
