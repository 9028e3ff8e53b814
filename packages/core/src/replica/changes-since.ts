// Catch-up (PROTOCOL.md §6.2) with gap-free catch-up (DESIGN.md item 1), served as pages: every
// fact the requester may lack, in HLC order, cut at transaction boundaries by the batch bound.
// From a watermark W with coverage c (watermarks.ts) that is first the "late" facts (hlc < W that
// arrived after c), then the facts above W; a transaction straddling W is one set.
//
// The real client sets its watermark to each page's max, unconditionally, so every page must be a
// valid place to resume from. A page with max H is recorded as (requester, H) → m, m being the
// arrival sequence when the catch-up began: whoever received the pages up to H holds every fact
// at or below H that had arrived by then (the late ones below W from the pages, the others with
// the watermark it presented). A late page's H lies below W; resuming from it re-serves what lies
// between H and W (the watermark it replaced is gone from the client), never less.
import { compareBytes } from '../clock/bytes.js';
import { hlcToBytes, type HLC } from '../clock/hlc.js';
import type { SiteId } from '../clock/site-id.js';
import { bytesEqual } from '../clock/bytes.js';
import type { ChangeSet } from '../wire/types.js';
import type { Engine } from './engine.js';
import { BASE_BYTES, sameBase, siteOfHlc } from './hlc-parts.js';
import { StreamEncoder } from '../wire/stream-encoder.js';
import type { ChangesCursor, ChangesPage, ChangesPageJson, GetChangesOptions } from './replica-api.js';
import { canDeltaSync } from './retention.js';
import type { ScannedTx, StoredMigration } from './store.js';
import { TxGroup } from './tx-group.js';
import { coveredSeq, noteCoverage } from './watermarks.js';

function batchBound(options: GetChangesOptions | undefined): number {
  const n = options?.batchSize ?? 1000;
  if (n !== Infinity && (!Number.isSafeInteger(n) || n < 1)) {
    throw new RangeError(`batchSize must be a positive integer or Infinity, got ${n}`);
  }
  return n;
}

/**
 * Transactions of the scans (in base order; one base may span several runs, and end one scan and
 * start the next) with their migrations. Each comes with whether anything follows it, which is
 * known as soon as the next transaction's first run is read.
 */
function* txGroups(
  scans: Iterable<ScannedTx>[],
  migs: readonly StoredMigration[],
): Generator<{ group: TxGroup; follows: boolean }> {
  let mi = 0;
  const withMigrations = (g: TxGroup): TxGroup => {
    while (mi < migs.length && sameBase(migs[mi]!.hlc, g.baseBytes)) g.addMigration(migs[mi++]!);
    return g;
  };
  const migrationGroup = (): TxGroup => withMigrations(new TxGroup(migs[mi]!.hlc.slice(0, BASE_BYTES)));
  let current: TxGroup | undefined;
  for (const scan of scans) {
    for (const tx of scan) {
      if (current && sameBase(current.baseBytes, tx.base)) {
        current.addFacts(tx.facts);
        continue;
      }
      if (current) yield { group: current, follows: true };
      // Migration-only transactions ordered before this one.
      while (mi < migs.length && compareBytes(migs[mi]!.hlc.subarray(0, BASE_BYTES), tx.base) < 0) {
        yield { group: migrationGroup(), follows: true };
      }
      current = withMigrations(new TxGroup(tx.base));
      current.addFacts(tx.facts);
    }
  }
  if (current) yield { group: current, follows: mi < migs.length };
  while (mi < migs.length) {
    const group = migrationGroup();
    yield { group, follows: mi < migs.length };
  }
}

class Cursor implements ChangesCursor {
  private readonly bound: number;
  private readonly since: Uint8Array | undefined;
  private started = false;
  private done = false;
  private covered = 0;
  private seqAtStart = 0;
  private recordable: boolean;
  /** Base of the last transaction served and the max of the last page. */
  private lastBase: Uint8Array | undefined;
  private lastMax: Uint8Array | undefined;
  /** Remembers what consecutive pages share (a transaction's HLC prefix, a row's pk). */
  private encoder: StreamEncoder | undefined;

  constructor(
    private readonly engine: Engine,
    private readonly requester: SiteId,
    since: HLC | undefined,
    options: GetChangesOptions | undefined,
  ) {
    this.bound = batchBound(options);
    this.recordable = options?.record ?? true;
    this.since = since ? hlcToBytes(since) : undefined;
  }

  next(): ChangesPage {
    const { groups, more } = this.page();
    return { changeSets: groups.map((g) => g.toChangeSet()), more };
  }

  nextJson(): ChangesPageJson {
    const { groups, more } = this.page();
    this.encoder ??= new StreamEncoder();
    const w = this.encoder;
    return { changeSetsJson: JSON.stringify(groups.map((g) => g.toWire(w))), changeSetCount: groups.length, more };
  }

  /** The next page's transactions, with the watermark bookkeeping for its max done. */
  private page(): { groups: TxGroup[]; more: boolean } {
    this.engine.assertOpen();
    if (this.done) return { groups: [], more: false };
    if (!this.started) this.start();
    const groups: TxGroup[] = [];
    let data = 0;
    let more = false;
    // Leaving the loop returns the scans' iterators before anything is written.
    for (const { group, follows } of txGroups(this.scans(), this.migrations())) {
      groups.push(group);
      data += group.dataCount;
      if (data >= this.bound) {
        more = follows;
        break;
      }
    }
    const last = groups.at(-1);
    if (!more) this.done = true;
    if (!last) return { groups: [], more: false };
    this.lastBase = last.baseBytes;
    this.lastMax = last.maxBytes();
    if (this.recordable) {
      const max = this.lastMax;
      noteCoverage(this.engine, { rule: 'reply', site: this.requester, hlc: max, covered: this.seqAtStart });
    }
    return { groups, more };
  }

  private start(): void {
    const { engine, requester, since } = this;
    this.started = true;
    this.seqAtStart = engine.lastSeq;
    if (!since) return;
    this.covered = coveredSeq(engine, requester, since);
    this.recordable &&= canDeltaSync(engine, requester, since).ok;
    if (!this.recordable) return;
    const late = engine.store.scanLate(this.covered, undefined, since, requester, 1)[Symbol.iterator]();
    const anyLate = late.next().done === false;
    late.return?.();
    if (!anyLate && !this.migrations().some((m) => compareBytes(m.hlc, since) < 0)) {
      noteCoverage(engine, { rule: 'raise', site: requester, hlc: since, covered: this.seqAtStart });
    }
  }

  /** Whether the late part (below the watermark) may still hold transactions after the last one served. */
  private inLatePart(): boolean {
    const { since, lastBase } = this;
    return since !== undefined && (!lastBase || compareBytes(lastBase, since.subarray(0, BASE_BYTES)) < 0);
  }

  /** Above the watermark, after the last page when that went past it. */
  private upperAfter(): Uint8Array | undefined {
    const { since, lastMax } = this;
    return since && (!lastMax || compareBytes(lastMax, since) < 0) ? since : lastMax;
  }

  private scans(): Iterable<ScannedTx>[] {
    const { store } = this.engine;
    const upper = store.scanAfterHlc(this.upperAfter(), this.requester, this.bound);
    if (!this.inLatePart()) return [upper];
    return [store.scanLate(this.covered, this.lastBase, this.since!, this.requester, this.bound), upper];
  }

  /** The requester's due migrations after the last transaction served, in HLC order. */
  private migrations(): StoredMigration[] {
    const { since, covered, lastBase, requester } = this;
    const after = this.upperAfter();
    const late = this.inLatePart();
    return this.engine.store
      .listMigrations()
      .filter((m) => {
        if (bytesEqual(siteOfHlc(m.hlc), requester)) return false;
        if (!after || compareBytes(m.hlc, after) > 0) return true;
        return (
          late &&
          m.seq > covered &&
          compareBytes(m.hlc, since!) < 0 &&
          (!lastBase || compareBytes(m.hlc.subarray(0, BASE_BYTES), lastBase) > 0)
        );
      })
      .sort((a, b) => compareBytes(a.hlc, b.hlc));
  }
}

/** A catch-up served page by page; each `next()` is one synchronous read (and its bookkeeping). */
export function openChangesCursor(
  engine: Engine,
  requester: SiteId,
  since: HLC | undefined,
  options?: GetChangesOptions,
): ChangesCursor {
  engine.assertOpen();
  return new Cursor(engine, requester, since, options);
}

/** The first page of a catch-up: what an HTTP caller or a paging SDK asks for, one page at a time. */
export function changesSince(
  engine: Engine,
  requester: SiteId,
  since: HLC | undefined,
  options?: GetChangesOptions,
): ChangeSet[] {
  return openChangesCursor(engine, requester, since, options).next().changeSets;
}
