// Bookkeeping for gap-free catch-up (DESIGN.md "Where we go past", item 1).
//
// A record (site S, watermark W) → c states: a replica of S that presents W holds every fact with
// seq ≤ c and hlc ≤ W (or S wrote it, so the echo filter withheld it). A catch-up of S from W then
// only needs the facts with hlc > W plus the "late" ones with hlc ≤ W and seq > c. A missing
// record counts as c = 0 and costs a fuller catch-up, never a gap.
//
// A coordinator cannot trust the site id a requester claims (any token holder can claim any), so
// with `guardCoverage` a record must stay true for the real site whoever asked. Two rules write:
// - raise (raiseCoverage): serving from W with no late facts proves that a replica at W covers m,
//   delivered or not, because it depends only on the database's content. It may create a record
//   or raise one.
// - reply (recordReply): a reply (or a snapshot) whose max is H proves H → m only for whoever
//   received it. An impostor claiming S can be that receiver, so this rule may create a record
//   or lower one (min), never raise it. Whoever receives a reply with max H later received it at
//   a later m, so the first value recorded for H holds for them too.
// That argument fails once a record is forgotten: re-created later by an impostor, it would carry
// a higher value than the real site's reply proved. So forgetting leaves a floor behind and the
// reply rule creates nothing at H ≤ floor: per site (a record dropped by the per-site LRU) and
// database-wide (the records of a whole evicted site, records expired by retention, and the clock
// at a restore that lost or rewound the table). Floors only rise.
// The price: a record left low (its site took late facts and came back to H) is only raised by
// the first rule, so such a client is re-served those facts on each catch-up until a newer fact
// gives it a fresh watermark. Unguarded (a client replica, whose one requester is its trusted
// server) a reply may also raise a record, which lets a caller paging by asking again from each
// reply's max always reach an empty reply.
//
// Lookups match the watermark exactly: a record for a higher W' proves nothing about a replica
// that never received the reply carrying W'. Two live connections sharing one site id, or a client
// restoring an older watermark, fall outside this model (one connection per site at a time is how
// the real client works).
import { compareBytes, fromHex, toHex } from '../clock/bytes.js';
import { META, type Engine } from './engine.js';
import type { WatermarkRecord } from './store.js';

/** The recorded coverage of exactly (site, watermark); 0 when unknown. */
export function coveredSeq(engine: Engine, site: Uint8Array, watermark: Uint8Array): number {
  const r = engine.store.listWatermarks(site).find((x) => compareBytes(x.hlc, watermark) === 0);
  return r?.coveredSeq ?? 0;
}

const maxOf = (a: Uint8Array | undefined, b: Uint8Array | undefined): Uint8Array | undefined =>
  !a ? b : !b ? a : compareBytes(a, b) >= 0 ? a : b;

function databaseFloor(engine: Engine): Uint8Array | undefined {
  const hex = engine.store.getMeta(META.watermarkFloor);
  return hex === undefined ? undefined : fromHex(hex);
}

/** Raises the database-wide floor to `hlc` (never lowers it). Call inside `engine.write`. */
export function raiseDatabaseFloor(engine: Engine, hlc: Uint8Array | undefined): void {
  const current = databaseFloor(engine);
  if (!hlc || (current && compareBytes(current, hlc) >= 0)) return;
  engine.store.setMeta(META.watermarkFloor, toHex(hlc));
}

function raiseSiteFloor(engine: Engine, site: Uint8Array, hlc: Uint8Array): void {
  const current = engine.store.getWatermarkFloor(site);
  if (!current || compareBytes(hlc, current) > 0) engine.store.setWatermarkFloor(site, hlc);
}

/** True when a record at `hlc` for `site` may have existed and been forgotten. */
function belowFloor(engine: Engine, site: Uint8Array, hlc: Uint8Array): boolean {
  const floor = maxOf(engine.store.getWatermarkFloor(site), databaseFloor(engine));
  return floor !== undefined && compareBytes(hlc, floor) <= 0;
}

/** Rule "raise": serving from `hlc` found no late facts up to `covered`. Call inside `engine.write`. */
export function raiseCoverage(engine: Engine, site: Uint8Array, hlc: Uint8Array, covered: number): void {
  put(engine, site, hlc, (old) => Math.max(covered, old ?? 0));
}

/**
 * Rule "reply": a reply or snapshot with max `hlc` read at `covered`. Unguarded (a replica that
 * trusts its requesters) it may raise a record too. Call inside `engine.write`.
 */
export function recordReply(engine: Engine, site: Uint8Array, hlc: Uint8Array, covered: number): void {
  if (!engine.settings.guardCoverage) {
    put(engine, site, hlc, (old) => Math.max(covered, old ?? 0));
    return;
  }
  put(engine, site, hlc, (old) => {
    if (old !== undefined) return Math.min(old, covered);
    return belowFloor(engine, site, hlc) ? undefined : covered;
  });
}

/**
 * Writes (site, hlc) → next(existing value) unless next gives undefined, keeping at most
 * `watermarksPerSite` records per site and `maxWatermarkSites` sites, least recently used
 * forgotten first (each leaving its floor).
 */
function put(
  engine: Engine,
  site: Uint8Array,
  hlc: Uint8Array,
  next: (old: number | undefined) => number | undefined,
): void {
  const { store, settings } = engine;
  const existing = store.listWatermarks(site);
  const same = existing.find((r) => compareBytes(r.hlc, hlc) === 0);
  const coveredSeq = next(same?.coveredSeq);
  if (coveredSeq === undefined) return;
  const useSeq = Number(store.getMeta(META.watermarkUse) ?? '0') + 1;
  store.setMeta(META.watermarkUse, String(useSeq));
  store.putWatermark({ site, hlc, coveredSeq, usedAt: engine.now(), useSeq });
  if (!same && existing.length >= settings.watermarksPerSite) {
    const oldest = [...existing].sort((a, b) => a.useSeq - b.useSeq);
    for (const r of oldest.slice(0, existing.length + 1 - settings.watermarksPerSite)) {
      raiseSiteFloor(engine, site, r.hlc);
      store.deleteWatermark(site, r.hlc);
    }
  }
  if (existing.length === 0) {
    while (store.watermarkSiteCount() > settings.maxWatermarkSites) {
      const victim = store.leastRecentWatermarkSite();
      if (!victim) break;
      forgetSite(engine, victim);
    }
  }
}

function forgetSite(engine: Engine, site: Uint8Array): void {
  const { store } = engine;
  const highest = store
    .listWatermarks(site)
    .map((r: WatermarkRecord) => r.hlc)
    .reduce<Uint8Array | undefined>(maxOf, store.getWatermarkFloor(site));
  raiseDatabaseFloor(engine, highest);
  store.deleteWatermarkSite(site);
}

/** A coverage record a catch-up or snapshot wrote, as a replica tells `onCoverage` about it. */
export interface CoverageNote {
  readonly rule: 'raise' | 'reply';
  readonly site: Uint8Array;
  readonly hlc: Uint8Array;
  readonly covered: number;
}

/** Applies one note under its rule. Call inside `engine.write`. */
export function applyCoverage(engine: Engine, note: CoverageNote): void {
  if (note.rule === 'raise') raiseCoverage(engine, note.site, note.hlc, note.covered);
  else recordReply(engine, note.site, note.hlc, note.covered);
}

/**
 * Records what a reply (or a clean catch-up) proved, as bookkeeping whose loss in a crash costs a
 * fuller catch-up, never a fact, and tells `onCoverage` (a cluster shares it with its other nodes).
 */
export function noteCoverage(engine: Engine, note: CoverageNote): void {
  engine.write(() => applyCoverage(engine, note), { durable: false });
  engine.settings.onCoverage?.(note);
}

/** Retention: forgets records unused since `usedBefore`. Call inside `engine.write`. */
export function forgetWatermarksUsedBefore(engine: Engine, usedBefore: number): void {
  raiseDatabaseFloor(engine, engine.store.deleteWatermarksUsedBefore(usedBefore));
}
