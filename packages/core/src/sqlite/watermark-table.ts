// Handed-out watermarks (gap-free catch-up bookkeeping) in SQLite. `watermark_sites` keeps each
// site's most recent use so the least recently served site is found by index, not by grouping.
import type Database from 'better-sqlite3';
import type { WatermarkRecord } from '../replica/store.js';
import { compareBytes } from '../clock/bytes.js';
import { asBytes } from './rows.js';

type Row = [Uint8Array, number, number, number];

export class WatermarkTable {
  private readonly s;

  constructor(db: Database.Database) {
    this.s = {
      list: db.prepare<[Uint8Array], Row>('SELECT hlc, covered, used_at, use_seq FROM watermarks WHERE site = ?').raw(),
      put: db.prepare(
        'INSERT OR REPLACE INTO watermarks (site, hlc, covered, used_at, use_seq) VALUES (?, ?, ?, ?, ?)',
      ),
      touchSite: db.prepare(
        'INSERT INTO watermark_sites (site, use_seq) VALUES (?, ?) ' +
          'ON CONFLICT (site) DO UPDATE SET use_seq = max(use_seq, excluded.use_seq)',
      ),
      delete: db.prepare('DELETE FROM watermarks WHERE site = ? AND hlc = ?'),
      dropSiteIfEmpty: db.prepare(
        'DELETE FROM watermark_sites WHERE site = ? AND NOT EXISTS (SELECT 1 FROM watermarks WHERE site = ?)',
      ),
      siteCount: db.prepare<[], number>('SELECT count(*) FROM watermark_sites').pluck(),
      leastRecent: db.prepare<[], Uint8Array>('SELECT site FROM watermark_sites ORDER BY use_seq LIMIT 1').pluck(),
      deleteSiteRecords: db.prepare('DELETE FROM watermarks WHERE site = ?'),
      deleteSite: db.prepare('DELETE FROM watermark_sites WHERE site = ?'),
      maxUsedBefore: db
        .prepare<[number], Uint8Array | null>('SELECT max(hlc) FROM watermarks WHERE used_at < ?')
        .pluck(),
      deleteUsedBefore: db.prepare('DELETE FROM watermarks WHERE used_at < ?'),
      dropEmptySites: db.prepare('DELETE FROM watermark_sites WHERE site NOT IN (SELECT site FROM watermarks)'),
      getFloor: db.prepare<[Uint8Array], Uint8Array>('SELECT hlc FROM watermark_floors WHERE site = ?').pluck(),
      setFloor: db.prepare('INSERT OR REPLACE INTO watermark_floors (site, hlc) VALUES (?, ?)'),
      deleteFloor: db.prepare('DELETE FROM watermark_floors WHERE site = ?'),
      maxOrphanFloor: db
        .prepare<[], Uint8Array | null>(
          'SELECT max(hlc) FROM watermark_floors WHERE site NOT IN (SELECT site FROM watermarks)',
        )
        .pluck(),
      dropOrphanFloors: db.prepare('DELETE FROM watermark_floors WHERE site NOT IN (SELECT site FROM watermarks)'),
    };
  }

  list(site: Uint8Array): WatermarkRecord[] {
    return this.s.list
      .all(site)
      .map(([hlc, coveredSeq, usedAt, useSeq]) => ({ site, hlc: asBytes(hlc), coveredSeq, usedAt, useSeq }));
  }

  put(r: WatermarkRecord): void {
    this.s.put.run(r.site, r.hlc, r.coveredSeq, r.usedAt, r.useSeq);
    this.s.touchSite.run(r.site, r.useSeq);
  }

  delete(site: Uint8Array, hlc: Uint8Array): void {
    this.s.delete.run(site, hlc);
    this.s.dropSiteIfEmpty.run(site, site);
  }

  siteCount(): number {
    return this.s.siteCount.get()!;
  }

  leastRecentSite(): Uint8Array | undefined {
    const site = this.s.leastRecent.get();
    return site ? asBytes(site) : undefined;
  }

  deleteSite(site: Uint8Array): void {
    this.s.deleteSiteRecords.run(site);
    this.s.deleteSite.run(site);
    this.s.deleteFloor.run(site);
  }

  deleteUsedBefore(usedBefore: number): Uint8Array | undefined {
    const records = this.s.maxUsedBefore.get(usedBefore);
    this.s.deleteUsedBefore.run(usedBefore);
    this.s.dropEmptySites.run();
    const floors = this.s.maxOrphanFloor.get();
    this.s.dropOrphanFloors.run();
    const max = [records, floors].filter((x): x is Uint8Array => x != null).map(asBytes);
    return max.sort(compareBytes).at(-1);
  }

  floor(site: Uint8Array): Uint8Array | undefined {
    const hlc = this.s.getFloor.get(site);
    return hlc ? asBytes(hlc) : undefined;
  }

  setFloor(site: Uint8Array, hlc: Uint8Array): void {
    this.s.setFloor.run(site, hlc);
  }
}
