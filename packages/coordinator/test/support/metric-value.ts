// Reads one series of a prom-client metric (a counter or gauge of the server under test).
import type { Counter, Gauge } from 'prom-client';

export async function metricValue<L extends string>(
  metric: Counter<L> | Gauge<L>,
  labels: Partial<Record<L, string>> = {},
): Promise<number> {
  const { values } = await metric.get();
  const wanted = Object.entries(labels);
  const series = values.find((v) => wanted.every(([k, want]) => (v.labels as Record<string, unknown>)[k] === want));
  return series?.value ?? 0;
}
