// Bookkeeping for gap-free catch-up (DESIGN.md "Where we go past", item 1).
//
// A record (site S, watermark W) → c states: every fact with seq ≤ c and hlc ≤ W has reached S
// (or belongs to S, so the echo filter withheld it). A catch-up of S from W then only needs the
// facts with hlc > W plus the "late" ones with hlc ≤ W and seq > c. Forgetting a record is always
// safe: an unknown watermark counts as c = 0 and costs a fuller catch-up, never a lost fact.
import { compareBytes } from '../clock/bytes.js';
import { META, type Engine } from './engine.js';

/**
 * The best known coverage of (site, W). Any record (site, W') with W' ≥ W covers W as well,
 * because {hlc ≤ W, seq ≤ c'} ⊆ {hlc ≤ W', seq ≤ c'}; so the largest such c' is taken.
 */
export function coveredSeq(engine: Engine, site: Uint8Array, watermark: Uint8Array): number {
  let best = 0;
  for (const r of engine.store.listWatermarks(site)) {
    if (r.coveredSeq > best && compareBytes(r.hlc, watermark) >= 0) best = r.coveredSeq;
  }
  return best;
}

/**
 * Remembers (site, hlc) → covered, keeping at most `watermarksPerSite` records per site and
 * `maxWatermarkSites` sites, least recently used forgotten first. Call inside `engine.write`.
 */
export function recordWatermark(engine: Engine, site: Uint8Array, hlc: Uint8Array, covered: number): void {
  const { store, settings } = engine;
  const existing = store.listWatermarks(site);
  const same = existing.find((r) => compareBytes(r.hlc, hlc) === 0);
  const useSeq = Number(store.getMeta(META.watermarkUse) ?? '0') + 1;
  store.setMeta(META.watermarkUse, String(useSeq));
  store.putWatermark({
    site,
    hlc,
    coveredSeq: Math.max(covered, same?.coveredSeq ?? 0),
    usedAt: engine.now(),
    useSeq,
  });
  if (!same && existing.length >= settings.watermarksPerSite) {
    const oldest = [...existing].sort((a, b) => a.useSeq - b.useSeq);
    for (const r of oldest.slice(0, existing.length + 1 - settings.watermarksPerSite))
      store.deleteWatermark(site, r.hlc);
  }
  if (existing.length === 0) {
    while (store.watermarkSiteCount() > settings.maxWatermarkSites) {
      const victim = store.leastRecentWatermarkSite();
      if (!victim) break;
      store.deleteWatermarkSite(victim);
    }
  }
}
