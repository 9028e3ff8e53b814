// One transaction of a catch-up being assembled from the facts and migrations a scan selected.
import { transactionIdOf } from '../clock/transaction-id.js';
import type { HLC } from '../clock/hlc.js';
import type { Change, ChangeSet, SchemaMigration } from '../wire/types.js';
import { BASE_BYTES, baseHlc, opSeqOf } from './hlc-parts.js';
import type { ScannedFact, StoredMigration } from './store.js';

/** One transaction being assembled; facts share the base's wallTime, counter and siteId. */
export class TxGroup {
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
