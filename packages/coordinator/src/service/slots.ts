// Counted slots under a limit (sessions per database, snapshot streams). Taking a slot is
// synchronous, so requests racing for the last one cannot both get it.

export class Slots {
  private readonly used = new Map<string, number>();

  constructor(readonly limit: number) {}

  /** A slot under `key`, as its release function (idempotent), or undefined when all are taken. */
  tryTake(key = ''): (() => void) | undefined {
    const count = this.used.get(key) ?? 0;
    if (count >= this.limit) return undefined;
    this.used.set(key, count + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.used.get(key) ?? 1) - 1;
      if (left > 0) this.used.set(key, left);
      else this.used.delete(key);
    };
  }

  count(key = ''): number {
    return this.used.get(key) ?? 0;
  }
}
