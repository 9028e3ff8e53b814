// Bookkeeping for gap-free catch-up (DESIGN.md "Where we go past", item 1).
//
// A record (site S, watermark W) → c states: a replica of S that presents W holds every fact with
// seq ≤ c and hlc ≤ W (or S wrote it, so the echo filter withheld it). A catch-up of S from W then
// only needs the facts with hlc > W plus the "late" ones with hlc ≤ W and seq > c. Forgetting a
// record is always safe: an unknown watermark counts as c = 0 and costs a fuller catch-up.
//
// A reply can be lost on the way, so a record never depends on delivery:
// - serving from W with no late facts proves a replica at W covers m, delivered or not: W → m;
// - a reply with max H is a proof for whoever presents H, because a client's watermark is the max
//   of the last reply it received (and it asks only from its watermark, one request at a time):
//   H → m. The late part lies strictly below W, so a reply's max never equals the W it answered.
// Both only ever raise a record. Lookups match the watermark exactly: a record for a higher W'
// proves nothing about a replica that never received the reply carrying W'. Two live
// connections sharing one site id, or a client restoring an older watermark, fall outside this
// model (one connection per site at a time is how the real client works).
import { compareBytes } from '../clock/bytes.js';
import { META, type Engine } from './engine.js';

/** The recorded coverage of exactly (site, watermark); 0 when unknown. */
export function coveredSeq(engine: Engine, site: Uint8Array, watermark: Uint8Array): number {
  const r = engine.store.listWatermarks(site).find((x) => compareBytes(x.hlc, watermark) === 0);
  return r?.coveredSeq ?? 0;
}

/**
 * Remembers (site, hlc) → covered (never lowering an existing record), keeping at most `watermarksPerSite` records per site and
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
