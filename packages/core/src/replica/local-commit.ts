// A local transaction: one clock tick, opSeq per fact (DDL first), merged by the same rules as
// remote facts and returned as the ChangeSet peers will receive.
import { makeHLC, type HLC } from '../clock/hlc.js';
import { transactionIdOf } from '../clock/transaction-id.js';
import { decodeSqlValue, encodeSqlValue } from '../wire/sql-value.js';
import type { Change, ChangeSet, ColumnChange, DeleteChange, SchemaMigration, SqlValue } from '../wire/types.js';
import { WireError } from '../wire/wire-error.js';
import type { Engine } from './engine.js';
import { mergeData, mergeMigrations, type MergeCounts } from './merge.js';
import { assertChange, assertMigration, assertPk } from './validate-input.js';

/** A change as the app writes it: the clock stamps it (and the engine derives no before-image). */
export type LocalChange = Omit<ColumnChange, 'hlc' | 'prior'> | Omit<DeleteChange, 'hlc' | 'priorRow'>;

export type LocalMigration = Omit<SchemaMigration, 'hlc'>;

export interface LocalTransaction {
  readonly changes: readonly LocalChange[];
  readonly migrations?: readonly LocalMigration[];
}

/**
 * The value every peer will decode from the wire, so the local replica holds exactly that:
 * a JSON object shaped like a tagged blob becomes a blob, NaN becomes null, -0 becomes 0.
 * Values JSON cannot carry are refused.
 */
function asOnTheWire(v: SqlValue, what: string): SqlValue {
  if (v === 0) return 0;
  if (v === undefined) throw new WireError(`${what} is required`);
  return decodeSqlValue(encodeSqlValue(v), what);
}

function buildFacts(tx: LocalTransaction, base: HLC): { changes: Change[]; migrations: SchemaMigration[] } {
  let opSeq = 0;
  const hlc = (): HLC => makeHLC(base.wallTime, base.counter, base.siteId, opSeq++);
  const migrations = (tx.migrations ?? []).map((m, i) => {
    const out: SchemaMigration = { ...m, hlc: hlc() };
    assertMigration(out, `migrations[${i}]`);
    return out;
  });
  const changes = tx.changes.map((c, i): Change => {
    const what = `changes[${i}]`;
    assertPk(c.pk, `${what}.pk`);
    const pk = c.pk.map((v, j) => asOnTheWire(v, `${what}.pk[${j}]`));
    const out: Change =
      c.type === 'column'
        ? {
            type: 'column',
            schema: c.schema,
            table: c.table,
            pk,
            column: c.column,
            value: asOnTheWire(c.value, `${what}.value`),
            hlc: hlc(),
          }
        : { type: 'delete', schema: c.schema, table: c.table, pk, hlc: hlc() };
    assertChange(out, what);
    return out;
  });
  return { changes, migrations };
}

export function commitLocalTransaction(engine: Engine, tx: LocalTransaction): ChangeSet {
  engine.assertOpen();
  if (!tx || !Array.isArray(tx.changes)) throw new WireError('commitLocal needs { changes: [...] }');
  if (tx.migrations !== undefined && !Array.isArray(tx.migrations)) throw new WireError('migrations must be an array');
  if (tx.changes.length === 0 && (tx.migrations ?? []).length === 0) {
    throw new WireError('commitLocal needs at least one change or migration');
  }
  return engine.write(() => {
    const base = engine.clock.tick();
    const { changes, migrations } = buildFacts(tx, base);
    const counts: MergeCounts = { applied: 0, skipped: 0, conflicts: 0 };
    mergeMigrations(engine, migrations, counts);
    mergeData(engine, changes, counts, false);
    const last = changes.at(-1)?.hlc ?? migrations.at(-1)!.hlc;
    return {
      siteId: engine.siteId,
      transactionId: transactionIdOf(base),
      hlc: last,
      changes,
      schemaMigrations: migrations,
    };
  });
}
