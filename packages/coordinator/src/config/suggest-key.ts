import { CONFIG_OPTIONS } from './options.js';

/** Edit distance where swapping two neighbours is one typo (optimal string alignment). */
function distance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let value = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        value = Math.min(value, d[i - 2]![j - 2]! + 1);
      d[i]![j] = value;
    }
  }
  return d[a.length]![b.length]!;
}

/**
 * The config key an unknown key most likely meant: the same key in another case, the same leaf in
 * another section (`batchSize` → `sync.batchSize`), or the nearest key within a couple of typos.
 */
export function suggestKey(unknown: string): string | undefined {
  const lower = unknown.toLowerCase();
  const keys = CONFIG_OPTIONS.map((o) => o.key as string);
  const sameCase = keys.find((k) => k.toLowerCase() === lower);
  if (sameCase !== undefined) return sameCase;
  const leaf = lower.slice(lower.lastIndexOf('.') + 1);
  const sameLeaf = keys.filter((k) => k.toLowerCase().slice(k.lastIndexOf('.') + 1) === leaf);
  if (sameLeaf.length === 1) return sameLeaf[0];
  const max = unknown.length <= 6 ? 1 : 2;
  let best: string | undefined;
  let bestDistance = max + 1;
  for (const key of keys) {
    const d = distance(lower, key.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [key, d];
  }
  return best;
}
