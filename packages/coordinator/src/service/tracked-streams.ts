// Streams (snapshot streams) tracked from their first step until they end, so shutdown can end
// each one at a step boundary and wait until its source has finished (its engine read over, its
// slot given back) before the stores close. An ended stream fails its consumer's next step with
// `endedError()`, so a cut stream never looks complete.

interface Running<T> {
  source?: AsyncGenerator<T, void, undefined>;
  /** Parked at a yield, waiting for its consumer to ask for more. */
  parked: boolean;
  readonly done: Promise<void>;
  readonly finish: () => void;
}

export class TrackedStreams<T> {
  private readonly running = new Set<Running<T>>();
  private ending = false;

  constructor(private readonly endedError: () => Error) {}

  /** `start` is called on the first step (not before), so a stream never iterated costs nothing. */
  track(start: () => AsyncGenerator<T, void, undefined>): AsyncGenerator<T, void, undefined> {
    return this.run(start);
  }

  private async *run(start: () => AsyncGenerator<T, void, undefined>): AsyncGenerator<T, void, undefined> {
    let finish!: () => void;
    const done = new Promise<void>((resolve) => (finish = resolve));
    const entry: Running<T> = { parked: false, done, finish };
    this.running.add(entry);
    try {
      if (this.ending) throw this.endedError();
      entry.source = start();
      for (;;) {
        const step = await entry.source.next();
        if (this.ending) throw this.endedError();
        if (step.done) return;
        entry.parked = true;
        yield step.value;
        entry.parked = false;
        if (this.ending) throw this.endedError();
      }
    } finally {
      // Ends the source when the consumer stopped early, failed, or shutdown ended the stream.
      await entry.source?.return(undefined);
      this.running.delete(entry);
      finish();
    }
  }

  /**
   * Ends every stream and resolves once each source has finished: a stream parked at a yield has
   * its source ended now; one busy reading ends at its next step, when that read is done.
   */
  async endAll(): Promise<void> {
    this.ending = true;
    const waits: Promise<unknown>[] = [];
    for (const entry of this.running) {
      if (entry.parked) {
        this.running.delete(entry);
        waits.push((entry.source?.return(undefined) ?? Promise.resolve()).finally(entry.finish));
      } else waits.push(entry.done);
    }
    await Promise.allSettled(waits);
  }
}
