// What subscribers learn about a change: which rows of which tables were written or deleted, and
// from where. Remote events list every row a received change set touched, winners and losers
// alike (a subscriber re-reads the rows it shows; a fact that lost changes nothing it reads).
import type { ChangeSet, SchemaMigration, SqlValue } from '@syncord/core';
import { rowIdentity } from './row-key.js';

export type ChangeSource = 'local' | 'remote' | 'snapshot';

export interface RowChange {
  readonly schema: string;
  readonly table: string;
  readonly key: readonly SqlValue[];
  /** `delete` when the change sets deleted the row, else `put`. */
  readonly op: 'put' | 'delete';
  /** Columns written (empty for a delete). */
  readonly columns: readonly string[];
}

export interface DatabaseChange {
  readonly source: ChangeSource;
  /** Rows touched. Empty for `snapshot`: the whole replica was replaced, re-read everything. */
  readonly rows: readonly RowChange[];
  /** Schema migrations carried by the change (declarations, or DDL from peers). */
  readonly migrations: readonly SchemaMigration[];
  /** The change sets, for apps that want the raw facts. Empty for `snapshot`. */
  readonly changeSets: readonly ChangeSet[];
}

export type ChangeListener = (change: DatabaseChange) => void;

export function describeChangeSets(source: ChangeSource, changeSets: readonly ChangeSet[]): DatabaseChange {
  const rows = new Map<
    string,
    { schema: string; table: string; key: readonly SqlValue[]; op: 'put' | 'delete'; columns: Set<string> }
  >();
  const migrations: SchemaMigration[] = [];
  for (const cs of changeSets) {
    migrations.push(...cs.schemaMigrations);
    for (const c of cs.changes) {
      const id = rowIdentity(c.schema, c.table, c.pk);
      let row = rows.get(id);
      if (!row) {
        row = { schema: c.schema, table: c.table, key: c.pk, op: 'put', columns: new Set() };
        rows.set(id, row);
      }
      if (c.type === 'delete') {
        row.op = 'delete';
        row.columns.clear();
      } else if (row.op === 'put') {
        row.columns.add(c.column);
      }
    }
  }
  return {
    source,
    rows: [...rows.values()].map((r) => ({
      schema: r.schema,
      table: r.table,
      key: r.key,
      op: r.op,
      columns: [...r.columns],
    })),
    migrations,
    changeSets,
  };
}
