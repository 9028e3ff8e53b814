// Whether this replica already holds a fact at the same or a newer version, so merging it would
// change nothing. The coordinator's origin check reads it: a client may re-push facts it received
// (they are held), but not introduce facts under another site's id. The comparisons are those of
// merge.ts, against the stored versions only.
import { compareBytes } from '../clock/bytes.js';
import { hlcToBytes } from '../clock/hlc.js';
import type { Change, SchemaMigration } from '../wire/types.js';
import type { Engine } from './engine.js';
import { pkKeyOf } from './pk-key.js';
import { migrationKind, tableRef, type RowVersions } from './store.js';

const isChange = (fact: Change | SchemaMigration): fact is Change => fact.type === 'column' || fact.type === 'delete';

export function holdsFact(engine: Engine, fact: Change | SchemaMigration): boolean {
  const hlc = hlcToBytes(fact.hlc);
  if (!isChange(fact)) {
    const stored = engine.store.getMigrationHlc(fact.schema, migrationKind(fact.type), fact.table, fact.schemaVersion);
    return stored !== undefined && compareBytes(stored, hlc) >= 0;
  }
  const pkKey = pkKeyOf(fact.pk);
  const versions: RowVersions = engine.store.loadRows(tableRef(fact.schema, fact.table), [pkKey]).get(pkKey) ?? {
    cells: new Map(),
  };
  const tomb = versions.tombstone;
  if (fact.type === 'delete') return tomb !== undefined && compareBytes(tomb, hlc) >= 0;
  const cell = versions.cells.get(fact.column);
  if (cell !== undefined && compareBytes(cell, hlc) >= 0) return true;
  // A row tombstone that blocks the write holds the newer truth about the row.
  return tomb !== undefined && (!engine.settings.allowResurrection || compareBytes(tomb, hlc) >= 0);
}
