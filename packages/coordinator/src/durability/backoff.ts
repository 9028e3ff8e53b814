// Waits between attempts of a failing upload: doubling from BASE up to a cap, with jitter so many
// databases retrying after one outage do not hit S3 in step. Wakeable, so shutdown never waits
// out a long delay.

export const BACKOFF_BASE_MS = 100;

export function backoffDelay(failures: number, maxMs: number, random: () => number = Math.random): number {
  const exp = BACKOFF_BASE_MS * 2 ** Math.min(Math.max(failures - 1, 0), 30);
  const capped = Math.min(exp, maxMs);
  return Math.round(capped * (0.75 + 0.5 * random()));
}

/** A sleep that `wake()` ends early. */
export class Sleeper {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private done: (() => void) | undefined;

  sleep(ms: number): Promise<void> {
    this.wake();
    return new Promise((resolve) => {
      this.done = resolve;
      this.timer = setTimeout(() => this.wake(), ms);
    });
  }

  wake(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const done = this.done;
    this.done = undefined;
    done?.();
  }
}
