import { describe, expect, it } from 'vitest';
import { ClockDriftError, HybridClock, MAX_DRIFT_MS, checkDrift } from './hybrid-clock.js';
import { newSiteId } from './site-id.js';

/** A clock whose physical time is whatever the test sets. */
function clockAt(now: number, state: { wallTime: bigint; counter: number } = { wallTime: 0n, counter: 0 }) {
  const time = { now };
  const clock = new HybridClock(newSiteId(), state, () => time.now);
  return { clock, time };
}

describe('HybridClock.tick (PROTOCOL.md §7)', () => {
  it('takes physical time when it is ahead, resetting the counter', () => {
    const { clock } = clockAt(1000, { wallTime: 500n, counter: 7 });
    const h = clock.tick();
    expect(h.wallTime).toBe(1000n);
    expect(h.counter).toBe(0);
    expect(h.opSeq).toBe(0);
    expect(h.siteId).toBe(clock.siteId);
  });

  it('counts up while physical time stands still or runs behind', () => {
    const { clock, time } = clockAt(1000, { wallTime: 1000n, counter: 0 });
    expect(clock.tick()).toMatchObject({ wallTime: 1000n, counter: 1 });
    time.now = 900;
    expect(clock.tick()).toMatchObject({ wallTime: 1000n, counter: 2 });
    time.now = 1001;
    expect(clock.tick()).toMatchObject({ wallTime: 1001n, counter: 0 });
  });

  it('rolls the counter over at 65535 into the next millisecond', () => {
    const { clock } = clockAt(1000, { wallTime: 1000n, counter: 65534 });
    expect(clock.tick()).toMatchObject({ wallTime: 1000n, counter: 65535 });
    expect(clock.tick()).toMatchObject({ wallTime: 1001n, counter: 0 });
    expect(clock.tick()).toMatchObject({ wallTime: 1001n, counter: 1 });
  });

  it('now() reads without advancing', () => {
    const { clock } = clockAt(1000, { wallTime: 1000n, counter: 4 });
    expect(clock.now()).toMatchObject({ wallTime: 1000n, counter: 4, opSeq: 0 });
    expect(clock.now()).toMatchObject({ wallTime: 1000n, counter: 4 });
    expect(clock.state()).toEqual({ wallTime: 1000n, counter: 4 });
  });
});

describe('HybridClock.receive (PROTOCOL.md §7)', () => {
  it('local and remote walls equal and ahead of now: max counter + 1', () => {
    const { clock } = clockAt(100, { wallTime: 5000n, counter: 3 });
    clock.receive({ wallTime: 5000n, counter: 9 });
    expect(clock.state()).toEqual({ wallTime: 5000n, counter: 10 });
    clock.receive({ wallTime: 5000n, counter: 2 });
    expect(clock.state()).toEqual({ wallTime: 5000n, counter: 11 });
  });

  it('local wall alone is the max: counter + 1', () => {
    const { clock } = clockAt(100, { wallTime: 5000n, counter: 3 });
    clock.receive({ wallTime: 4000n, counter: 99 });
    expect(clock.state()).toEqual({ wallTime: 5000n, counter: 4 });
  });

  it('remote wall alone is the max: adopt it with remote counter + 1', () => {
    const { clock } = clockAt(100, { wallTime: 5000n, counter: 3 });
    clock.receive({ wallTime: 6000n, counter: 1 });
    expect(clock.state()).toEqual({ wallTime: 6000n, counter: 2 });
  });

  it('physical time wins: now with counter 0', () => {
    const { clock } = clockAt(7000, { wallTime: 5000n, counter: 3 });
    clock.receive({ wallTime: 6000n, counter: 8 });
    expect(clock.state()).toEqual({ wallTime: 7000n, counter: 0 });
  });

  it('now equal to both walls still counts as the equal-walls case', () => {
    const { clock } = clockAt(5000, { wallTime: 5000n, counter: 3 });
    clock.receive({ wallTime: 5000n, counter: 1 });
    expect(clock.state()).toEqual({ wallTime: 5000n, counter: 4 });
  });

  it('rolls over after each rule that can pass 65535', () => {
    const equal = clockAt(100, { wallTime: 5000n, counter: 65535 }).clock;
    equal.receive({ wallTime: 5000n, counter: 65535 });
    expect(equal.state()).toEqual({ wallTime: 5001n, counter: 0 });

    const local = clockAt(100, { wallTime: 5000n, counter: 65535 }).clock;
    local.receive({ wallTime: 10n, counter: 0 });
    expect(local.state()).toEqual({ wallTime: 5001n, counter: 0 });

    const remote = clockAt(100, { wallTime: 5000n, counter: 0 }).clock;
    remote.receive({ wallTime: 6000n, counter: 65535 });
    expect(remote.state()).toEqual({ wallTime: 6001n, counter: 0 });
  });
});

describe('drift gate (PROTOCOL.md §7)', () => {
  const now = 1_718_000_000_000;

  it('accepts a remote exactly at now + 60 s and refuses 1 ms more', () => {
    expect(MAX_DRIFT_MS).toBe(60_000);
    expect(() => checkDrift(BigInt(now + MAX_DRIFT_MS), now)).not.toThrow();
    expect(() => checkDrift(BigInt(now + MAX_DRIFT_MS + 1), now)).toThrow(ClockDriftError);
  });

  it('receive refuses before changing state, and accepts at the bound', () => {
    const { clock } = clockAt(now, { wallTime: BigInt(now), counter: 2 });
    expect(() => clock.receive({ wallTime: BigInt(now + MAX_DRIFT_MS + 1), counter: 0 })).toThrow(ClockDriftError);
    expect(clock.state()).toEqual({ wallTime: BigInt(now), counter: 2 });
    clock.receive({ wallTime: BigInt(now + MAX_DRIFT_MS), counter: 0 });
    expect(clock.state()).toEqual({ wallTime: BigInt(now + MAX_DRIFT_MS), counter: 1 });
  });

  it('has no lower bound: old timestamps are always accepted', () => {
    const { clock } = clockAt(now, { wallTime: BigInt(now), counter: 0 });
    clock.receive({ wallTime: 0n, counter: 0 });
    expect(clock.state()).toEqual({ wallTime: BigInt(now), counter: 1 });
  });

  it('reports both times in the error', () => {
    try {
      checkDrift(BigInt(now + 120_000), now);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ClockDriftError);
      expect((err as ClockDriftError).remoteWallTime).toBe(BigInt(now + 120_000));
      expect((err as ClockDriftError).localNow).toBe(BigInt(now));
    }
  });
});
