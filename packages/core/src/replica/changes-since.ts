// getChangesSince (PROTOCOL.md §6.2) with gap-free catch-up (DESIGN.md item 1): the facts above
// the watermark, in HLC order and cut at a transaction boundary by the batch bound, plus every
// fact that arrived after the watermark was handed out even though its HLC is below it.
import { bytesEqual, compareBytes, toHex } from '../clock/bytes.js';
import { hlcFromBytes, hlcToBytes, type HLC } from '../clock/hlc.js';
import type { SiteId } from '../clock/site-id.js';
import { transactionIdOf } from '../clock/transaction-id.js';
import type { Change, ChangeSet, SchemaMigration } from '../wire/types.js';
import type { Engine } from './engine.js';
import type { GetChangesOptions } from './replica-api.js';
import { canDeltaSync } from './retention.js';
import type { StoredFact, StoredMigration } from './store.js';
import { coveredSeq, recordWatermark } from './watermarks.js';

/** Bytes 0..25 of an HLC: (wallTime, counter, siteId), the identity of its transaction. */
const BASE_BYTES = 26;

function sameBase(a: Uint8Array, b: Uint8Array): boolean {
  for (let i = 0; i < BASE_BYTES; i++) if (a[i] !== b[i]) return false;
  return true;
}

function opSeqOf(h: Uint8Array): number {
  return ((h[26]! << 24) | (h[27]! << 16) | (h[28]! << 8) | h[29]!) >>> 0;
}

/** One transaction being assembled; facts share the base's wallTime, counter and siteId. */
class TxGroup {
  readonly base: HLC;
  readonly changes: Change[] = [];
  readonly migrations: SchemaMigration[] = [];
  readonly baseBytes: Uint8Array;
  max: Uint8Array;
  /** `first` is the full HLC of any member; the group takes its transaction. */
  constructor(first: Uint8Array) {
    const h = hlcFromBytes(first);
    this.base = { wallTime: h.wallTime, counter: h.counter, siteId: h.siteId, opSeq: 0 };
    this.baseBytes = first.subarray(0, BASE_BYTES);
    this.max = first;
  }
  private hlc(bytes: Uint8Array): HLC {
    if (compareBytes(bytes, this.max) > 0) this.max = bytes;
    return {
      wallTime: this.base.wallTime,
      counter: this.base.counter,
      siteId: this.base.siteId,
      opSeq: opSeqOf(bytes),
    };
  }
  addFact(f: StoredFact): void {
    const { schema, table } = f.table;
    const hlc = this.hlc(f.hlc);
    if (f.kind === 'cell') {
      this.changes.push({ type: 'column', schema, table, pk: f.pk, column: f.column, value: f.value, hlc });
    } else {
      this.changes.push({
        type: 'delete',
        schema,
        table,
        pk: f.pk,
        hlc,
        ...(f.priorRow ? { priorRow: f.priorRow } : {}),
      });
    }
  }
  addMigration(m: StoredMigration): void {
    const out: SchemaMigration = {
      type: m.type,
      schema: m.schema,
      table: m.table,
      ddl: m.ddl,
      hlc: this.hlc(m.hlc),
      schemaVersion: m.schemaVersion,
      ...(m.fromTable !== undefined ? { fromTable: m.fromTable } : {}),
    };
    this.migrations.push(out);
  }
  absorb(other: TxGroup): void {
    for (const c of other.changes) this.changes.push(c);
    for (const m of other.migrations) this.migrations.push(m);
    if (compareBytes(other.max, this.max) > 0) this.max = other.max;
    const byOpSeq = (a: { hlc: HLC }, b: { hlc: HLC }): number => a.hlc.opSeq - b.hlc.opSeq;
    this.changes.sort(byOpSeq);
    this.migrations.sort(byOpSeq);
  }
  toChangeSet(): ChangeSet {
    return {
      siteId: this.base.siteId,
      transactionId: transactionIdOf(this.base),
      hlc: hlcFromBytes(this.max),
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
  const groupOf = (h: Uint8Array): TxGroup => {
    const key = toHex(h.subarray(0, BASE_BYTES));
    let g = groups.get(key);
    if (!g) groups.set(key, (g = new TxGroup(h)));
    return g;
  };
  const facts = engine.store.scanLate(covered, since, requester).sort((a, b) => compareBytes(a.hlc, b.hlc));
  for (const m of migs) if (m.seq > covered && compareBytes(m.hlc, since) < 0) groupOf(m.hlc).addMigration(m);
  for (const f of facts) groupOf(f.hlc).addFact(f);
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
    .filter((m) => !bytesEqual(m.hlc.subarray(10, BASE_BYTES), requester))
    .sort((a, b) => compareBytes(a.hlc, b.hlc));

  const late = sinceBytes
    ? lateGroups(engine, coveredSeq(engine, requester, sinceBytes), sinceBytes, requester, migs)
    : new Map<string, TxGroup>();

  // The part above the watermark: facts and migrations merged in HLC order, whole transactions.
  const main: TxGroup[] = [];
  const upper = sinceBytes ? migs.filter((m) => compareBytes(m.hlc, sinceBytes) > 0) : migs;
  let mi = 0;
  let data = 0;
  let current: TxGroup | undefined;
  const startOrJoin = (h: Uint8Array): boolean => {
    if (current && sameBase(current.baseBytes, h)) return true;
    if (data >= bound) return false;
    current = new TxGroup(h);
    main.push(current);
    return true;
  };
  let stopped = false;
  for (const f of engine.store.scanAfterHlc(sinceBytes, requester)) {
    while (mi < upper.length && compareBytes(upper[mi]!.hlc, f.hlc) < 0) {
      if (!startOrJoin(upper[mi]!.hlc)) break;
      current!.addMigration(upper[mi++]!);
    }
    if (!startOrJoin(f.hlc)) {
      stopped = true;
      break; // leaving the loop returns the store's iterator before anything is written
    }
    current!.addFact(f);
    data++;
  }
  if (!stopped) {
    while (mi < upper.length && startOrJoin(upper[mi]!.hlc)) current!.addMigration(upper[mi++]!);
  }

  const lateCount = late.size;
  // A transaction straddling the watermark has facts on both sides: serve it as one set.
  const first = main[0];
  const straddle = first && late.get(toHex(first.baseBytes));
  if (first && straddle) {
    first.absorb(straddle);
    late.delete(toHex(first.baseBytes));
  }
  const groups = [...late.values()].sort((a, b) => compareBytes(a.max, b.max)).concat(main);
  const result = groups.map((g) => g.toChangeSet());

  const replyMax = groups.at(-1)?.max;
  const safe = !sinceBytes || canDeltaSync(engine, requester, sinceBytes).ok;
  const raise = sinceBytes !== undefined && lateCount === 0;
  if (safe && (raise || replyMax)) {
    engine.write(() => {
      if (replyMax) recordWatermark(engine, requester, replyMax, seqAtRead);
      if (raise) recordWatermark(engine, requester, sinceBytes, seqAtRead);
    });
  }
  return result;
}
