// Current values of the registry's counters and gauges, read the way a scrape reads them.
import type { Counter, Gauge } from 'prom-client';
import type { AdminCount } from './types.js';

type Metric = Counter<string> | Gauge<string>;

/** Every series of the metric summed. */
export async function totalOf(metric: Metric): Promise<number> {
  const { values } = await metric.get();
  return values.reduce((sum, v) => sum + v.value, 0);
}

/** Series by one label's value, largest first; zero series are left out. */
export async function countsBy(metric: Metric, label: string): Promise<AdminCount[]> {
  const { values } = await metric.get();
  return values
    .filter((v) => v.value > 0)
    .map((v) => ({ name: String(v.labels[label] ?? ''), count: v.value }))
    .sort((a, b) => b.count - a.count || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
