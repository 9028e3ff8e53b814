// "Changes since" reads: fragments and tombstones in pages, each page built by SQLite as one JSON
// text. Handing a thousand records to JavaScript as one string (one JSON.parse) costs a fraction
// of materialising them row by row, which is what bounded serving speed.
import type Database from 'better-sqlite3';
import { fromHex, toHex } from '../clock/bytes.js';
import { BASE_BYTES, opSeqOf } from '../replica/hlc-parts.js';
import type { ScannedFact, ScannedTx } from '../replica/store.js';
import { decodeSqlValue, decodeSqlValues } from '../wire/sql-value.js';
import type { TableDirectory } from './rows.js';

/** Most records per page. */
const PAGE = 1000;
const MIN_PAGE = 16;
const NO_BYTES = new Uint8Array(0);
/** Hex digits of a transaction base (SQLite's hex() is upper case, so text order is byte order). */
const BASE_HEX = BASE_BYTES * 2;

/** [seq, table id, pk, base hex, [column, opSeq, …], [value, …]] */
type FragmentJson = [number, number, unknown, string, (string | number)[], unknown[]];
/** [seq, table id, pk, hlc hex, createdAt, priorRow | null] */
type TombstoneJson = [number, number, unknown, string, number, unknown];

const FRAGMENT_TEXT = `'[' || seq || ',' || tbl || ',' || coalesce(pkx, pk) || ',"' || hex(base) || '",' || meta || ',' || vals || ']'`;
const TOMBSTONE_TEXT = `'[' || seq || ',' || tbl || ',' || coalesce(pkx, pk) || ',"' || hex(hlc) || '",' || created || ',' || coalesce(prior, 'null') || ']'`;
const page = (text: string, inner: string): string =>
  `SELECT '[' || coalesce(group_concat(${text}, ','), '') || ']' FROM (${inner} LIMIT @limit)`;

/** The aggregate keeps the subquery's order in practice; sorting an ordered page is nearly free. */
function ordered<T extends [number, number, unknown, string, ...unknown[]]>(rows: T[], byKey: boolean): T[] {
  const cmp = (a: T, b: T): number => (byKey ? (a[3] < b[3] ? -1 : a[3] > b[3] ? 1 : a[0] - b[0]) : a[0] - b[0]);
  for (let i = 1; i < rows.length; i++) if (cmp(rows[i - 1]!, rows[i]!) > 0) return rows.sort(cmp);
  return rows;
}

type LateArgs = { seq: number; base: Uint8Array; cursor: number; below: Uint8Array; limit: number; site: Uint8Array };
type LateTombArgs = { seq: number; after: Uint8Array; below: Uint8Array; limit: number; site: Uint8Array };

/** At most this many rows arrived after a coverage: read them by arrival and sort (see lateFragments). */
const LATE_BY_ARRIVAL_ROWS = 20_000;
const MAX_OP = new Uint8Array([0xff, 0xff, 0xff, 0xff]);

export class FactScanner {
  private readonly s;
  /** Learned from earlier pages; size the first page of the next scan. */
  private cellsPerFragment = 1;
  private fragmentsPerTx = 1;

  constructor(
    db: Database.Database,
    private readonly tables: TableDirectory,
  ) {
    type Site = { site: Uint8Array };
    this.s = {
      fragments: db
        .prepare<{ base: Uint8Array; seq: number; limit: number } & Site, string>(
          page(
            FRAGMENT_TEXT,
            'SELECT * FROM cells WHERE (base, seq) > (@base, @seq) AND substr(base, 11, 16) <> @site ORDER BY base, seq',
          ),
        )
        .pluck(),
      tombstones: db
        .prepare<{ after: Uint8Array; limit: number } & Site, string>(
          page(
            TOMBSTONE_TEXT,
            'SELECT * FROM tombstones WHERE hlc > @after AND substr(hlc, 11, 16) <> @site ORDER BY hlc',
          ),
        )
        .pluck(),
      // Late facts in base order, two plans. By index: walk the HLC range below the watermark and
      // skip what arrived early (`+seq`); cheap when most of it is late (an unknown watermark).
      // By arrival: take the few rows that arrived after the coverage (`+base` / `+hlc` keep the
      // planner on the rowid range) and sort them; cheap when the coverage is recent.
      lateFragments: db
        .prepare<LateArgs, string>(
          page(
            FRAGMENT_TEXT,
            'SELECT * FROM cells WHERE (base, seq) > (@base, @cursor) AND base <= @below AND +seq > @seq ' +
              'AND substr(base, 11, 16) <> @site ORDER BY base, seq',
          ),
        )
        .pluck(),
      lateFragmentsBySeq: db
        .prepare<LateArgs, string>(
          page(
            FRAGMENT_TEXT,
            'SELECT * FROM cells WHERE seq > @seq AND +base <= @below ' +
              'AND (+base > @base OR (+base = @base AND seq > @cursor)) ' +
              'AND substr(base, 11, 16) <> @site ORDER BY +base, seq',
          ),
        )
        .pluck(),
      lateTombstones: db
        .prepare<LateTombArgs, string>(
          page(
            TOMBSTONE_TEXT,
            'SELECT * FROM tombstones WHERE hlc > @after AND hlc < @below AND +seq > @seq ' +
              'AND substr(hlc, 11, 16) <> @site ORDER BY hlc',
          ),
        )
        .pluck(),
      lateTombstonesBySeq: db
        .prepare<LateTombArgs, string>(
          page(
            TOMBSTONE_TEXT,
            'SELECT * FROM tombstones WHERE seq > @seq AND +hlc > @after AND +hlc < @below ' +
              'AND substr(hlc, 11, 16) <> @site ORDER BY +hlc',
          ),
        )
        .pluck(),
      maxCellSeq: db.prepare<[], number | null>('SELECT max(seq) FROM cells').pluck(),
      maxTombstoneSeq: db.prepare<[], number | null>('SELECT max(seq) FROM tombstones').pluck(),
    };
  }

  /**
   * Records the first query of a scan should read: the `wanted` cells, the rest of the transaction
   * that crosses that bound and the next record (which tells the transaction ended), plus a whole
   * transaction when the scan starts inside one (a watermark's own transaction is read again and
   * filtered). Sized from what earlier pages held, so that one query mostly serves one page.
   */
  private firstLimit(wanted: number, startsInsideTx: boolean): number {
    const tx = Math.ceil(this.fragmentsPerTx);
    const records = Math.ceil(wanted / this.cellsPerFragment) + tx * (startsInsideTx ? 2 : 1) + 1;
    return Math.min(PAGE, Math.max(MIN_PAGE, records));
  }

  /** The first page is sized by firstLimit, later pages double. */
  private *fragmentPages(after: Uint8Array | undefined, site: Uint8Array, wanted: number): Generator<FragmentJson> {
    let base: Uint8Array = after ? after.slice(0, BASE_BYTES) : NO_BYTES;
    let seq = 0;
    let fragments = 0;
    let cells = 0;
    let txs = 0;
    let lastHex = '';
    for (let limit = this.firstLimit(wanted, after !== undefined); ; limit = Math.min(PAGE, limit * 2)) {
      const rows = ordered(JSON.parse(this.s.fragments.get({ base, seq, site, limit })!) as FragmentJson[], true);
      for (const r of rows) {
        fragments++;
        cells += r[4].length / 2;
        if (r[3] !== lastHex) {
          txs++;
          lastHex = r[3];
        }
        yield r;
      }
      if (fragments > 0) {
        this.cellsPerFragment = cells / fragments;
        this.fragmentsPerTx = fragments / txs;
      }
      if (rows.length < limit) return;
      const last = rows[rows.length - 1]!;
      base = fromHex(last[3]);
      seq = last[0];
    }
  }

  private *tombstonePages(after: Uint8Array | undefined, site: Uint8Array, wanted: number): Generator<TombstoneJson> {
    let cursor: Uint8Array = after ? after.slice() : NO_BYTES;
    for (let limit = Math.min(PAGE, Math.max(MIN_PAGE, wanted)); ; limit = Math.min(PAGE, limit * 2)) {
      const rows = ordered(JSON.parse(this.s.tombstones.get({ after: cursor, site, limit })!) as TombstoneJson[], true);
      yield* rows;
      if (rows.length < limit) return;
      cursor = fromHex(rows[rows.length - 1]![3]);
    }
  }

  private addFragment(facts: ScannedFact[], r: FragmentJson, keep?: (opSeq: number) => boolean): void {
    const table = this.tables.refOf(r[1]);
    const pk = decodeSqlValues(r[2], 'stored pk');
    const meta = r[4];
    const vals = r[5];
    for (let i = 0, j = 0; i < meta.length; i += 2, j++) {
      const opSeq = meta[i + 1] as number;
      if (keep && !keep(opSeq)) continue;
      const value = decodeSqlValue(vals[j], 'stored value');
      facts.push({ kind: 'cell', table, pk, column: meta[i] as string, value, opSeq });
    }
  }

  private addTombstone(facts: ScannedFact[], r: TombstoneJson): void {
    const opSeq = parseInt(r[3].slice(BASE_HEX), 16);
    const prior = r[5] === null ? undefined : decodeSqlValues(r[5], 'stored priorRow');
    facts.push({
      kind: 'tombstone',
      table: this.tables.refOf(r[1]),
      pk: decodeSqlValues(r[2], 'stored pk'),
      opSeq,
      ...(prior ? { priorRow: prior } : {}),
    });
  }

  /** Facts above `after` as whole transactions in base order, merging the two paged streams. */
  afterHlc(after: Uint8Array | undefined, excludeSite: Uint8Array | undefined, wanted: number): Generator<ScannedTx> {
    const site = excludeSite ?? NO_BYTES;
    const afterHex = after ? toUpperHex(after.subarray(0, BASE_BYTES)) : undefined;
    const afterOp = after ? opSeqOf(after) : 0;
    // Only a fragment of the watermark's own transaction can hold facts at or below it.
    const aboveAfter = (opSeq: number): boolean => opSeq > afterOp;
    return this.merged(this.fragmentPages(after, site, wanted), this.tombstonePages(after, site, wanted), (hex) =>
      hex === afterHex ? aboveAfter : undefined,
    );
  }

  /**
   * Facts that arrived after `afterSeq` with a base above `afterBase` and an HLC below `below`,
   * as whole transactions in base order (paged, like afterHlc).
   */
  late(
    afterSeq: number,
    afterBase: Uint8Array | undefined,
    below: Uint8Array,
    excludeSite: Uint8Array | undefined,
    wanted: number,
  ): Generator<ScannedTx> {
    const site = excludeSite ?? NO_BYTES;
    const belowHex = toUpperHex(below.subarray(0, BASE_BYTES));
    const belowOp = opSeqOf(below);
    const under = (opSeq: number): boolean => opSeq < belowOp;
    return this.merged(
      this.lateFragmentPages(afterSeq, afterBase, below, site, wanted),
      this.lateTombstonePages(afterSeq, afterBase, below, site, wanted),
      (hex) => (hex === belowHex ? under : undefined),
    );
  }

  private *lateFragmentPages(
    seq: number,
    afterBase: Uint8Array | undefined,
    below: Uint8Array,
    site: Uint8Array,
    wanted: number,
  ): Generator<FragmentJson> {
    const byArrival = (this.s.maxCellSeq.get() ?? 0) - seq <= LATE_BY_ARRIVAL_ROWS;
    const query = byArrival ? this.s.lateFragmentsBySeq : this.s.lateFragments;
    // (base, seq) > (afterBase, ∞) is base > afterBase: the whole transaction was served.
    let base: Uint8Array = afterBase ?? NO_BYTES;
    let cursor = afterBase ? Number.MAX_SAFE_INTEGER : 0;
    for (let limit = this.firstLimit(wanted, false); ; limit = Math.min(PAGE, limit * 2)) {
      const rows = ordered(JSON.parse(query.get({ seq, base, cursor, below, site, limit })!) as FragmentJson[], true);
      yield* rows;
      if (rows.length < limit) return;
      const last = rows[rows.length - 1]!;
      base = fromHex(last[3]);
      cursor = last[0];
    }
  }

  private *lateTombstonePages(
    seq: number,
    afterBase: Uint8Array | undefined,
    below: Uint8Array,
    site: Uint8Array,
    wanted: number,
  ): Generator<TombstoneJson> {
    const byArrival = (this.s.maxTombstoneSeq.get() ?? 0) - seq <= LATE_BY_ARRIVAL_ROWS;
    const query = byArrival ? this.s.lateTombstonesBySeq : this.s.lateTombstones;
    let after: Uint8Array = afterBase ? concatBytes(afterBase, MAX_OP) : NO_BYTES;
    for (let limit = Math.min(PAGE, Math.max(MIN_PAGE, wanted)); ; limit = Math.min(PAGE, limit * 2)) {
      const rows = ordered(JSON.parse(query.get({ seq, after, below, site, limit })!) as TombstoneJson[], true);
      yield* rows;
      if (rows.length < limit) return;
      after = fromHex(rows[rows.length - 1]![3]);
    }
  }

  /**
   * Merges a fragment stream and a tombstone stream (both in base order) into runs of one
   * transaction's facts, one run per stored record: a consumer learns that a transaction ended
   * on reading the next one's first record, not its last (a page then reads one record past its
   * bound instead of a whole transaction).
   */
  private *merged(
    fragments: Iterator<FragmentJson>,
    tombstones: Iterator<TombstoneJson>,
    keepOf: (baseHex: string) => ((opSeq: number) => boolean) | undefined,
  ): Generator<ScannedTx> {
    let f = fragments.next();
    let t = tombstones.next();
    // Runs of one transaction share one base array.
    let hex: string | undefined;
    let base: Uint8Array = NO_BYTES;
    let keep: ((opSeq: number) => boolean) | undefined;
    try {
      while (!f.done || !t.done) {
        const fHex = f.done ? undefined : f.value[3];
        const tHex = t.done ? undefined : t.value[3].slice(0, BASE_HEX);
        const takeFragment = fHex !== undefined && (tHex === undefined || fHex <= tHex);
        const next = (takeFragment ? fHex : tHex)!;
        if (next !== hex) {
          hex = next;
          base = fromHex(hex);
          keep = keepOf(hex);
        }
        const facts: ScannedFact[] = [];
        if (takeFragment) {
          this.addFragment(facts, f.value as FragmentJson, keep);
          f = fragments.next();
        } else {
          const r = t.value as TombstoneJson;
          if (!keep || keep(parseInt(r[3].slice(BASE_HEX), 16))) this.addTombstone(facts, r);
          t = tombstones.next();
        }
        if (facts.length > 0) yield { base, facts };
      }
    } finally {
      fragments.return?.();
      tombstones.return?.();
    }
  }
}

function concatBytes(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

const toUpperHex = (bytes: Uint8Array): string => toHex(bytes).toUpperCase();
