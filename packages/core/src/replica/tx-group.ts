// One transaction of a catch-up being assembled from the facts and migrations a scan selected,
// rendered either as a ChangeSet or directly as its wire JSON text.
import { transactionIdOf } from '../clock/transaction-id.js';
import { encodeSiteId } from '../clock/site-id.js';
import type { HLC } from '../clock/hlc.js';
import { encodeSchemaMigration } from '../wire/schema-migration.js';
import { encodeSqlValue, encodeSqlValues } from '../wire/sql-value.js';
import type { SerializedChange, SerializedChangeSet } from '../wire/change-set.js';
import type { Change, ChangeSet, SchemaMigration } from '../wire/types.js';
import type { StreamEncoder } from '../wire/stream-encoder.js';
import { BASE_BYTES, baseHlc, opSeqOf } from './hlc-parts.js';
import type { ScannedFact, StoredMigration } from './store.js';

const byOpSeq = (a: { opSeq: number }, b: { opSeq: number }): number => a.opSeq - b.opSeq;

/** One transaction being assembled; facts share the base's wallTime, counter and siteId. */
export class TxGroup {
  readonly base: HLC;
  private readonly facts: ScannedFact[] = [];
  private readonly stored: StoredMigration[] = [];
  private maxOp = -1;
  private sorted = true;

  constructor(readonly baseBytes: Uint8Array) {
    this.base = baseHlc(baseBytes);
  }

  private hlc(opSeq: number): HLC {
    return { wallTime: this.base.wallTime, counter: this.base.counter, siteId: this.base.siteId, opSeq };
  }

  get dataCount(): number {
    return this.facts.length;
  }

  addFacts(facts: readonly ScannedFact[]): void {
    for (const f of facts) {
      if (f.opSeq < this.maxOp) this.sorted = false;
      else this.maxOp = f.opSeq;
      this.facts.push(f);
    }
  }

  addMigration(m: StoredMigration): void {
    this.stored.push(m);
    this.maxOp = Math.max(this.maxOp, opSeqOf(m.hlc));
  }

  /** The HLC of the newest fact: what the set's `hlc` and a client's next watermark become. */
  maxBytes(): Uint8Array {
    const out = new Uint8Array(30);
    out.set(this.baseBytes.subarray(0, BASE_BYTES));
    new DataView(out.buffer).setUint32(26, this.maxOp);
    return out;
  }

  /** Facts in opSeq order (a scan returns them by row, which is mostly that order already). */
  private factsInOrder(): ScannedFact[] {
    if (!this.sorted) {
      this.facts.sort(byOpSeq);
      this.sorted = true;
    }
    return this.facts;
  }

  private migrationsInOrder(): SchemaMigration[] {
    return this.stored
      .map((m) => ({ m, opSeq: opSeqOf(m.hlc) }))
      .sort(byOpSeq)
      .map(({ m, opSeq }) => ({
        type: m.type,
        schema: m.schema,
        table: m.table,
        ddl: m.ddl,
        hlc: this.hlc(opSeq),
        schemaVersion: m.schemaVersion,
        ...(m.fromTable !== undefined ? { fromTable: m.fromTable } : {}),
      }));
  }

  toChangeSet(): ChangeSet {
    const changes: Change[] = this.factsInOrder().map((f) => {
      const { schema, table } = f.table;
      const hlc = this.hlc(f.opSeq);
      if (f.kind === 'cell') return { type: 'column', schema, table, pk: f.pk, column: f.column, value: f.value, hlc };
      return { type: 'delete', schema, table, pk: f.pk, hlc, ...(f.priorRow ? { priorRow: f.priorRow } : {}) };
    });
    return {
      siteId: this.base.siteId,
      transactionId: transactionIdOf(this.base),
      hlc: this.hlc(this.maxOp),
      changes,
      schemaMigrations: this.migrationsInOrder(),
    };
  }

  /** encodeChangeSet(this.toChangeSet()), built without the decoded objects in between. */
  toWire(w: StreamEncoder): SerializedChangeSet {
    const base = this.baseBytes;
    const changes: SerializedChange[] = this.factsInOrder().map((f) => {
      const { schema, table } = f.table;
      const hlc = w.hlc(base, f.opSeq);
      const pk = w.pkOf(f.pk);
      if (f.kind === 'cell') {
        return { type: 'column', schema, table, pk, column: f.column, value: encodeSqlValue(f.value), hlc };
      }
      return {
        type: 'delete',
        schema,
        table,
        pk,
        hlc,
        ...(f.priorRow ? { priorRow: encodeSqlValues(f.priorRow) } : {}),
      };
    });
    return {
      siteId: encodeSiteId(this.base.siteId),
      transactionId: transactionIdOf(this.base),
      hlc: w.hlc(base, this.maxOp),
      changes,
      schemaMigrations: this.stored.length > 0 ? this.migrationsInOrder().map(encodeSchemaMigration) : [],
    };
  }
}
