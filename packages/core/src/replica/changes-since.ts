// getChangesSince (PROTOCOL.md §6.2) with gap-free catch-up (DESIGN.md item 1): the facts above
// the watermark, in HLC order and cut at a transaction boundary by the batch bound, plus every
// fact that arrived after the watermark was handed out even though its HLC is below it.
import { bytesEqual, compareBytes, toHex } from '../clock/bytes.js';
import { hlcToBytes, type HLC } from '../clock/hlc.js';
import type { SiteId } from '../clock/site-id.js';
import { transactionIdOf } from '../clock/transaction-id.js';
import type { Change, ChangeSet, SchemaMigration } from '../wire/types.js';
import type { Engine } from './engine.js';
import { BASE_BYTES, baseHlc, opSeqOf, sameBase, siteOfHlc } from './hlc-parts.js';
import type { GetChangesOptions } from './replica-api.js';
import { canDeltaSync } from './retention.js';
import type { ScannedFact, StoredMigration } from './store.js';
import { coveredSeq, recordWatermark } from './watermarks.js';

/** One transaction being assembled; facts share the base's wallTime, counter and siteId. */
class TxGroup {
  readonly base: HLC;
  readonly changes: Change[] = [];
  readonly migrations: SchemaMigration[] = [];
  private maxOp = -1;

  constructor(readonly baseBytes: Uint8Array) {
    this.base = baseHlc(baseBytes);
  }

  private hlc(opSeq: number): HLC {
    if (opSeq > this.maxOp) this.maxOp = opSeq;
    return { wallTime: this.base.wallTime, counter: this.base.counter, siteId: this.base.siteId, opSeq };
  }

  get dataCount(): number {
    return this.changes.length;
  }

  addFacts(facts: readonly ScannedFact[]): void {
    for (const f of facts) {
      const { schema, table } = f.table;
      const hlc = this.hlc(f.opSeq);
      if (f.kind === 'cell') {
        this.changes.push({ type: 'column', schema, table, pk: f.pk, column: f.column, value: f.value, hlc });
      } else {
        const prior = f.priorRow ? { priorRow: f.priorRow } : {};
        this.changes.push({ type: 'delete', schema, table, pk: f.pk, hlc, ...prior });
      }
    }
  }

  addMigration(m: StoredMigration): void {
    this.migrations.push({
      type: m.type,
      schema: m.schema,
      table: m.table,
      ddl: m.ddl,
      hlc: this.hlc(opSeqOf(m.hlc)),
      schemaVersion: m.schemaVersion,
      ...(m.fromTable !== undefined ? { fromTable: m.fromTable } : {}),
    });
  }

  /** The HLC of the newest fact: what the set's `hlc` and a client's next watermark become. */
  maxBytes(): Uint8Array {
    const out = new Uint8Array(30);
    out.set(this.baseBytes.subarray(0, BASE_BYTES));
    new DataView(out.buffer).setUint32(26, this.maxOp);
    return out;
  }

  toChangeSet(): ChangeSet {
    const byOpSeq = (a: { hlc: HLC }, b: { hlc: HLC }): number => a.hlc.opSeq - b.hlc.opSeq;
    this.changes.sort(byOpSeq);
    this.migrations.sort(byOpSeq);
    return {
      siteId: this.base.siteId,
      transactionId: transactionIdOf(this.base),
      hlc: this.hlc(this.maxOp),
      changes: this.changes,
      schemaMigrations: this.migrations,
    };
  }
}

function batchBound(options: GetChangesOptions | undefined): number {
  const n = options?.batchSize ?? 1000;
  if (n !== Infinity && (!Number.isSafeInteger(n) || n < 1)) {
    throw new RangeError(`batchSize must be a positive integer or Infinity, got ${n}`);
  }
  return n;
}

/**
 * The late portion, grouped per transaction: facts below the watermark that arrived after its
 * coverage. Served whole (never cut by the batch bound) so a client cannot livelock on it. The
 * fact at exactly the watermark is left out: the replica presenting W received it with W.
 */
function lateGroups(
  engine: Engine,
  covered: number,
  since: Uint8Array,
  requester: SiteId,
  migs: readonly StoredMigration[],
): Map<string, TxGroup> {
  const groups = new Map<string, TxGroup>();
  const groupOf = (base: Uint8Array): TxGroup => {
    const key = toHex(base.subarray(0, BASE_BYTES));
    let g = groups.get(key);
    if (!g) groups.set(key, (g = new TxGroup(base.slice(0, BASE_BYTES))));
    return g;
  };
  for (const m of migs) if (m.seq > covered && compareBytes(m.hlc, since) < 0) groupOf(m.hlc).addMigration(m);
  for (const tx of engine.store.scanLate(covered, since, requester)) groupOf(tx.base).addFacts(tx.facts);
  return groups;
}

export function changesSince(
  engine: Engine,
  requester: SiteId,
  since: HLC | undefined,
  options?: GetChangesOptions,
): ChangeSet[] {
  engine.assertOpen();
  const bound = batchBound(options);
  const seqAtRead = engine.lastSeq;
  const sinceBytes = since ? hlcToBytes(since) : undefined;
  const migs = engine.store
    .listMigrations()
    .filter((m) => !bytesEqual(siteOfHlc(m.hlc), requester))
    .sort((a, b) => compareBytes(a.hlc, b.hlc));

  const late = sinceBytes
    ? lateGroups(engine, coveredSeq(engine, requester, sinceBytes), sinceBytes, requester, migs)
    : new Map<string, TxGroup>();
  const lateCount = late.size;

  // The part above the watermark: whole transactions in HLC order, migration-only ones merged in.
  const main: TxGroup[] = [];
  const upper = sinceBytes ? migs.filter((m) => compareBytes(m.hlc, sinceBytes) > 0) : migs;
  let mi = 0;
  let data = 0;
  const full = (): boolean => data >= bound;
  /** Migrations ordered before `base` (or all, at the end) become their own transactions. */
  const migrationsBefore = (base: Uint8Array | undefined): boolean => {
    while (mi < upper.length && (!base || compareBytes(upper[mi]!.hlc.subarray(0, BASE_BYTES), base) < 0)) {
      const m = upper[mi]!;
      const last = main[main.length - 1];
      if (last && sameBase(last.baseBytes, m.hlc)) last.addMigration(m);
      else if (full()) return false;
      else (main[main.length] = new TxGroup(m.hlc.slice(0, BASE_BYTES))).addMigration(m);
      mi++;
    }
    return true;
  };
  let stopped = false;
  for (const tx of engine.store.scanAfterHlc(sinceBytes, requester, bound)) {
    if (!migrationsBefore(tx.base) || full()) {
      stopped = true;
      break; // leaving the loop returns the store's iterator before anything is written
    }
    const g = new TxGroup(tx.base);
    while (mi < upper.length && sameBase(upper[mi]!.hlc, tx.base)) g.addMigration(upper[mi++]!);
    g.addFacts(tx.facts);
    main.push(g);
    data += g.dataCount;
  }
  if (!stopped) migrationsBefore(undefined);

  // A transaction straddling the watermark has facts on both sides: serve it as one set.
  const first = main[0];
  const straddle = first && late.get(toHex(first.baseBytes.subarray(0, BASE_BYTES)));
  if (first && straddle) {
    first.changes.push(...straddle.changes);
    first.migrations.push(...straddle.migrations);
    late.delete(toHex(first.baseBytes.subarray(0, BASE_BYTES)));
  }
  const groups = [...late.values()].sort((a, b) => compareBytes(a.baseBytes, b.baseBytes)).concat(main);
  const result = groups.map((g) => g.toChangeSet());

  const replyMax = groups.at(-1)?.maxBytes();
  const safe = !sinceBytes || canDeltaSync(engine, requester, sinceBytes).ok;
  const raise = sinceBytes !== undefined && lateCount === 0;
  if (safe && (raise || replyMax)) {
    // Bookkeeping only: losing it to a crash costs a fuller catch-up, never a fact.
    engine.write(
      () => {
        if (replyMax) recordWatermark(engine, requester, replyMax, seqAtRead);
        if (raise) recordWatermark(engine, requester, sinceBytes, seqAtRead);
      },
      { durable: false },
    );
  }
  return result;
}
