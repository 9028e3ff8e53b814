import { Gauge } from 'prom-client';
import type { Registry } from 'prom-client';

/** The label value the databases beyond the named ones are summed into. */
export const OTHER_DATABASES = '_other';

/**
 * `sync_database_sessions{database}` with bounded cardinality: a label per database would let
 * tenants grow the scrape without limit, so only the `maxSeries` databases with the most sessions
 * get their own series and the rest are summed into `database="_other"` (a database really named
 * `_other` is counted there too). Counts live here; the series are rebuilt at each scrape.
 */
export class DatabaseSessionGauge {
  private readonly counts = new Map<string, number>();

  constructor(
    registry: Registry,
    readonly maxSeries = 50,
  ) {
    if (!Number.isSafeInteger(maxSeries) || maxSeries < 0) throw new RangeError(`maxSeries: ${maxSeries}`);
    const series = (): [string, number][] => this.series();
    new Gauge({
      name: 'sync_database_sessions',
      help:
        maxSeries === 0
          ? `Open sessions, every database counted as database="${OTHER_DATABASES}" (per-database labels are off)`
          : `Open sessions per database (the ${maxSeries} busiest; the rest as database="${OTHER_DATABASES}")`,
      labelNames: ['database'],
      registers: [registry],
      collect(this: Gauge<'database'>) {
        this.reset();
        for (const [database, count] of series()) this.set({ database }, count);
      },
    });
  }

  inc(database: string): void {
    this.counts.set(database, (this.counts.get(database) ?? 0) + 1);
  }

  /** A database at zero is forgotten; going below zero is ignored (a gauge must not crash a server). */
  dec(database: string): void {
    const count = this.counts.get(database) ?? 0;
    if (count <= 1) this.counts.delete(database);
    else this.counts.set(database, count - 1);
  }

  get(database: string): number {
    return this.counts.get(database) ?? 0;
  }

  /** Databases with at least one session. */
  get size(): number {
    return this.counts.size;
  }

  /** The series a scrape shows: busiest first, ties by name so a scrape is deterministic. */
  series(): [string, number][] {
    const ranked = [...this.counts].sort(([a, m], [b, n]) => n - m || (a < b ? -1 : a > b ? 1 : 0));
    const named: [string, number][] = [];
    let other = 0;
    for (const [database, count] of ranked) {
      if (named.length < this.maxSeries && database !== OTHER_DATABASES) named.push([database, count]);
      else other += count;
    }
    if (other > 0) named.push([OTHER_DATABASES, other]);
    return named;
  }
}
