// The one implementation of the merge rules (PROTOCOL.md §6.3 steps 2–5): column-level
// last-writer-wins by HLC, row tombstones that beat cells, migrations keyed by object and version.
// Every change is judged against the versions stored before the batch, so the counts do not
// depend on the order of the batch; only the winners are written.
import { bytesEqual, compareBytes } from '../clock/bytes.js';
import { hlcToBytes } from '../clock/hlc.js';
import type { Change, ColumnChange, DeleteChange, SchemaMigration } from '../wire/types.js';
import type { Engine } from './engine.js';
import { FactHlcBytes } from './hlc-parts.js';
import { pkKeyOf } from './pk-key.js';
import {
  migrationKind,
  tableRef,
  type RowVersions,
  type RowWrite,
  type StoredCell,
  type StoredTombstone,
  type TableRef,
} from './store.js';

export interface MergeCounts {
  applied: number;
  skipped: number;
  conflicts: number;
  /** When present, every fact counted in `applied` is added to it (to relay only those). */
  readonly appliedFacts?: Set<Change | SchemaMigration>;
}

interface Candidate<C extends Change> {
  readonly change: C;
  readonly hlc: Uint8Array;
}

interface RowWork {
  readonly pkKey: string;
  readonly changes: Candidate<Change>[];
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
    counts.appliedFacts?.add(m);
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
  const { siteId } = engine;
  const byTable = new Map<TableRef, Map<string, RowWork>>();
  const hlcBytes = new FactHlcBytes();
  for (const change of changes) {
    if (skipOwnOrigin && bytesEqual(change.hlc.siteId, siteId)) {
      counts.skipped++;
      continue;
    }
    const table = tables.get(change.schema, change.table);
    const pkKey = pkKeyOf(change.pk);
    let rows = byTable.get(table);
    if (!rows) byTable.set(table, (rows = new Map()));
    let row = rows.get(pkKey);
    if (!row) rows.set(pkKey, (row = { pkKey, changes: [] }));
    row.changes.push({ change, hlc: hlcBytes.of(change.hlc) });
  }
  const createdAt = engine.now();
  for (const [table, rows] of byTable) {
    const versions = engine.store.loadRows(table, [...rows.keys()]);
    const writes: RowWrite[] = [];
    for (const row of rows.values()) {
      const write = mergeRow(engine, row, versions.get(row.pkKey) ?? NO_VERSIONS, counts, createdAt, table);
      if (write) writes.push(write);
    }
    if (writes.length > 0) engine.store.writeRows(table, writes);
  }
}

const NO_VERSIONS: RowVersions = { cells: new Map() };

/** Judges one row's changes against its stored versions and returns what to write, if anything. */
function mergeRow(
  engine: Engine,
  row: RowWork,
  versions: RowVersions,
  counts: MergeCounts,
  createdAt: number,
  table: TableRef,
): RowWrite | undefined {
  const allowResurrection = engine.settings.allowResurrection;
  const tomb = versions.tombstone;
  let del: Candidate<DeleteChange> | undefined;
  const columns: Candidate<ColumnChange>[] = [];
  for (const cand of row.changes) {
    const { change, hlc } = cand;
    if (change.type === 'delete') {
      // A delete never compares against cells: it always beats them (§6.3).
      if (tomb && compareBytes(tomb, hlc) >= 0) {
        counts.skipped++;
      } else {
        counts.applied++;
        counts.appliedFacts?.add(change);
        if (!del || compareBytes(hlc, del.hlc) > 0) del = { change, hlc };
      }
      continue;
    }
    const stored = versions.cells.get(change.column);
    if (stored && compareBytes(hlc, stored) <= 0) {
      counts.conflicts++; // includes exact duplicates
    } else if (tomb && (!allowResurrection || compareBytes(tomb, hlc) >= 0)) {
      counts.skipped++;
    } else {
      columns.push({ change, hlc });
    }
  }

  const winners = new Map<string, Candidate<ColumnChange>>();
  for (const cand of columns) {
    // Step 4: a delete applied in this batch blocks this batch's column writes for the row.
    if (del && (!allowResurrection || compareBytes(del.hlc, cand.hlc) >= 0)) {
      counts.skipped++;
      continue;
    }
    counts.applied++;
    counts.appliedFacts?.add(cand.change);
    const prev = winners.get(cand.change.column);
    if (!prev || compareBytes(cand.hlc, prev.hlc) > 0) winners.set(cand.change.column, cand);
  }
  if (!del && winners.size === 0) return undefined;

  const cells: StoredCell[] = [];
  for (const { change, hlc } of winners.values()) {
    const seq = engine.nextSeq();
    // -0 is stored as 0: the wire (JSON) cannot tell them apart, so neither do replicas.
    const value = change.value === 0 ? 0 : change.value;
    cells.push({ table, pkKey: row.pkKey, pk: change.pk, column: change.column, value, hlc, seq });
  }
  if (!del) return { pkKey: row.pkKey, cells };
  const d = del.change;
  const tombstone: StoredTombstone = {
    table,
    pkKey: row.pkKey,
    pk: d.pk,
    hlc: del.hlc,
    seq: engine.nextSeq(),
    createdAt,
    ...(d.priorRow ? { priorRow: d.priorRow } : {}),
  };
  // With resurrection allowed, cells newer than the tombstone are revivals and survive; that
  // keeps the outcome independent of arrival order. Without it every cell of the row goes.
  const clear = versions.cells.size === 0 ? undefined : allowResurrection ? del.hlc : 'all';
  return { pkKey: row.pkKey, tombstone, ...(clear ? { clear } : {}), cells };
}
