// The one implementation of the merge rules (PROTOCOL.md §6.3 steps 2–5): column-level
// last-writer-wins by HLC, row tombstones that beat cells, migrations keyed by object and version.
// Every change is judged against the versions stored before the batch, so the counts do not
// depend on the order of the batch; only the winners are written.
import { bytesEqual, compareBytes } from '../clock/bytes.js';
import { hlcToBytes } from '../clock/hlc.js';
import type { Change, ColumnChange, DeleteChange, SchemaMigration } from '../wire/types.js';
import type { Engine } from './engine.js';
import { pkKeyOf } from './pk-key.js';
import { migrationKind, tableRef, type RowVersions, type TableRef } from './store.js';

export interface MergeCounts {
  applied: number;
  skipped: number;
  conflicts: number;
}

interface Candidate<C extends Change> {
  readonly change: C;
  readonly hlc: Uint8Array;
}

interface RowWork {
  readonly table: TableRef;
  readonly pkKey: string;
  readonly versions: RowVersions;
  /** The newest delete of the batch that beat the stored tombstone. */
  del?: Candidate<DeleteChange>;
  /** Column changes that beat the stored versions; a batch delete may still block them. */
  readonly columns: Candidate<ColumnChange>[];
}

/** Step 2: every migration in HLC order; a stored record with HLC ≥ the incoming one wins. */
export function mergeMigrations(engine: Engine, migrations: readonly SchemaMigration[], counts: MergeCounts): void {
  const sorted = migrations.map((m) => ({ m, hlc: hlcToBytes(m.hlc) })).sort((a, b) => compareBytes(a.hlc, b.hlc));
  for (const { m, hlc } of sorted) {
    const kind = migrationKind(m.type);
    const stored = engine.store.getMigrationHlc(m.schema, kind, m.table, m.schemaVersion);
    if (stored && compareBytes(stored, hlc) >= 0) {
      counts.skipped++;
      continue;
    }
    engine.store.putMigration({
      type: m.type,
      kind,
      schema: m.schema,
      table: m.table,
      ddl: m.ddl,
      hlc,
      schemaVersion: m.schemaVersion,
      ...(m.fromTable !== undefined ? { fromTable: m.fromTable } : {}),
      seq: engine.nextSeq(),
    });
    counts.applied++;
  }
}

/** Resolves (schema, table) to one TableRef per batch, so stores can cache by identity. */
export class TableRefs {
  private readonly refs = new Map<string, Map<string, TableRef>>();
  get(schema: string, table: string): TableRef {
    let bySchema = this.refs.get(schema);
    if (!bySchema) this.refs.set(schema, (bySchema = new Map()));
    let ref = bySchema.get(table);
    if (!ref) bySchema.set(table, (ref = tableRef(schema, table)));
    return ref;
  }
}

/**
 * Steps 3–5 for data changes. `skipOwnOrigin` is the echo guard for remote batches; local
 * commits pass false because their facts are, by definition, this replica's own.
 */
export function mergeData(
  engine: Engine,
  changes: Iterable<Change>,
  counts: MergeCounts,
  skipOwnOrigin: boolean,
  tables: TableRefs = new TableRefs(),
): void {
  const { store, siteId } = engine;
  const allowResurrection = engine.settings.allowResurrection;
  const rows = new Map<TableRef, Map<string, RowWork>>();
  const order: RowWork[] = [];

  for (const change of changes) {
    if (skipOwnOrigin && bytesEqual(change.hlc.siteId, siteId)) {
      counts.skipped++;
      continue;
    }
    const table = tables.get(change.schema, change.table);
    const pkKey = pkKeyOf(change.pk);
    let byPk = rows.get(table);
    if (!byPk) rows.set(table, (byPk = new Map()));
    let row = byPk.get(pkKey);
    if (!row) {
      row = { table, pkKey, versions: store.rowVersions(table, pkKey), columns: [] };
      byPk.set(pkKey, row);
      order.push(row);
    }
    const hlc = hlcToBytes(change.hlc);
    const tomb = row.versions.tombstone;
    if (change.type === 'delete') {
      // A delete never compares against cells: it always beats them (§6.3).
      if (tomb && compareBytes(tomb, hlc) >= 0) {
        counts.skipped++;
      } else {
        counts.applied++;
        if (!row.del || compareBytes(hlc, row.del.hlc) > 0) row.del = { change, hlc };
      }
      continue;
    }
    const stored = row.versions.cells.get(change.column);
    if (stored && compareBytes(hlc, stored) <= 0) {
      counts.conflicts++; // includes exact duplicates
    } else if (tomb && (!allowResurrection || compareBytes(tomb, hlc) >= 0)) {
      counts.skipped++;
    } else {
      row.columns.push({ change, hlc });
    }
  }

  const createdAt = engine.now();
  for (const row of order) {
    const winners = new Map<string, Candidate<ColumnChange>>();
    for (const cand of row.columns) {
      // Step 4: a delete applied in this batch blocks this batch's column writes for the row.
      if (row.del && (!allowResurrection || compareBytes(row.del.hlc, cand.hlc) >= 0)) {
        counts.skipped++;
        continue;
      }
      counts.applied++;
      const prev = winners.get(cand.change.column);
      if (!prev || compareBytes(cand.hlc, prev.hlc) > 0) winners.set(cand.change.column, cand);
    }
    if (row.del) {
      const d = row.del.change;
      store.putTombstone({
        table: row.table,
        pkKey: row.pkKey,
        pk: d.pk,
        hlc: row.del.hlc,
        seq: engine.nextSeq(),
        createdAt,
        ...(d.priorRow ? { priorRow: d.priorRow } : {}),
      });
      // With resurrection allowed, cells newer than the tombstone are revivals and survive; that
      // keeps the outcome independent of arrival order. Without it every cell of the row goes.
      if (row.versions.cells.size > 0) {
        store.deleteRowCells(row.table, row.pkKey, allowResurrection ? row.del.hlc : undefined);
      }
    }
    for (const { change, hlc } of winners.values()) {
      store.putCell({
        table: row.table,
        pkKey: row.pkKey,
        pk: change.pk,
        column: change.column,
        value: change.value,
        hlc,
        seq: engine.nextSeq(),
      });
    }
  }
}
