// Whether this replica already holds a fact, so merging it would change nothing and relaying it
// could mislead nobody. The coordinator's origin check reads it: a client may re-push facts it
// received (they are held), but not introduce facts under another site's id.
//
// An HLC names exactly one fact. So a fact at the stored version of its cell, row tombstone or
// migration is held only when it IS that stored fact: same value (column), a delete (row), same
// type, DDL and source name (migration). A fact repeating that HLC with other content is a forgery,
// never a re-push. A fact older than what is stored (or a column write the row's tombstone blocks)
// is held whatever it says: merging it changes nothing, and an apply relays only what applied.
import { bytesEqual, compareBytes } from '../clock/bytes.js';
import { hlcToBytes } from '../clock/hlc.js';
import { sqlValuesEqual } from '../wire/sql-value.js';
import type { Change, ColumnChange, SchemaMigration } from '../wire/types.js';
import type { Engine } from './engine.js';
import { pkKeyOf } from './pk-key.js';
import { migrationKind, tableRef, type RowVersions, type TableRef } from './store.js';

const isChange = (fact: Change | SchemaMigration): fact is Change => fact.type === 'column' || fact.type === 'delete';

function holdsMigration(engine: Engine, m: SchemaMigration, hlc: Uint8Array): boolean {
  const kind = migrationKind(m.type);
  const storedHlc = engine.store.getMigrationHlc(m.schema, kind, m.table, m.schemaVersion);
  if (storedHlc === undefined) return false;
  const order = compareBytes(storedHlc, hlc);
  if (order !== 0) return order > 0;
  const stored = engine.store.getMigration(m.schema, kind, m.table, m.schemaVersion);
  return stored !== undefined && stored.type === m.type && stored.ddl === m.ddl && stored.fromTable === m.fromTable;
}

/** Whether the stored cell at exactly this version has this value (read only when the HLCs tie). */
function sameStoredValue(engine: Engine, table: TableRef, pkKey: string, fact: ColumnChange): boolean {
  const cell = engine.store.rowCells(table, pkKey).find((c) => c.column === fact.column);
  return cell !== undefined && sqlValuesEqual(cell.value, fact.value);
}

/** True when another fact of this row (another column, or the tombstone) carries this very HLC. */
function hlcTakenInRow(versions: RowVersions, hlc: Uint8Array, ownColumn: string): boolean {
  if (versions.tombstone !== undefined && bytesEqual(versions.tombstone, hlc)) return true;
  for (const [column, cell] of versions.cells) if (column !== ownColumn && bytesEqual(cell, hlc)) return true;
  return false;
}

export function holdsFact(engine: Engine, fact: Change | SchemaMigration): boolean {
  const hlc = hlcToBytes(fact.hlc);
  if (!isChange(fact)) return holdsMigration(engine, fact, hlc);
  const table = tableRef(fact.schema, fact.table);
  const pkKey = pkKeyOf(fact.pk);
  const versions: RowVersions = engine.store.loadRows(table, [pkKey]).get(pkKey) ?? { cells: new Map() };
  const tomb = versions.tombstone;
  // A stored tombstone's HLC names a delete of this row; cells surviving it are all newer.
  if (fact.type === 'delete') return tomb !== undefined && compareBytes(tomb, hlc) >= 0;
  if (hlcTakenInRow(versions, hlc, fact.column)) return false;
  const cell = versions.cells.get(fact.column);
  if (cell !== undefined) {
    const order = compareBytes(cell, hlc);
    if (order > 0) return true;
    if (order === 0) return sameStoredValue(engine, table, pkKey, fact);
  }
  // A row tombstone that blocks the write holds the newer truth about the row.
  return tomb !== undefined && (!engine.settings.allowResurrection || compareBytes(tomb, hlc) >= 0);
}
