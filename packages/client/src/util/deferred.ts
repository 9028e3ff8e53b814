// A promise with its resolve/reject in hand, for replies that arrive as separate messages. A
// rejection nobody awaited is not an unhandled rejection: the flow that created it may be gone.

export class Deferred<T> {
  readonly promise: Promise<T>;
  resolve!: (value: T) => void;
  reject!: (reason: unknown) => void;

  constructor() {
    this.promise = new Promise<T>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    this.promise.catch(() => {});
  }
}
