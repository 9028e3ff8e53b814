// Table declarations, persisted in the replica's key/value store so they survive a restart, and
// the migrations a (re)declaration needs: `create_table` the first time, `add_column` for columns
// added later, nothing when the declaration is unchanged.
import { migrationKind, type LocalMigration, type Replica } from '@syncord/core';
import {
  addColumnDdl,
  checkTableDefinition,
  createTableDdl,
  SchemaError,
  sameDefinition,
  type ColumnType,
  type TableDefinition,
} from './table-definition.js';

interface StoredDeclaration {
  readonly columns: [string, ColumnType][];
  readonly primaryKey: string[];
  /** The schemaVersion of the table's last migration this replica knows. */
  readonly version: number;
}

export class Declarations {
  private readonly cache = new Map<string, { definition: TableDefinition; version: number }>();

  constructor(private readonly replica: Replica) {}

  get(schema: string, table: string): TableDefinition | undefined {
    return this.load(schema, table)?.definition;
  }

  /**
   * Declares a table: hands the migrations it needs to `commit` (nothing when unchanged), then
   * stores the declaration. Throws SchemaError, before committing anything, for a change it
   * cannot make. A crash between the two steps is harmless: the next declaration finds the
   * committed migration and adopts it.
   */
  declare(schema: string, table: string, raw: TableDefinition, commit: (m: LocalMigration[]) => void): void {
    const definition = checkTableDefinition(table, raw);
    const known = this.load(schema, table);
    const migrations: LocalMigration[] = [];
    // Above every version held for this table, peers' included: a peer's add_column at the next
    // version of our own record would otherwise be replaced by ours (last writer wins per version).
    let version = Math.max(known?.version ?? 0, this.heldVersion(schema, table));
    if (known) {
      const before = known.definition;
      if (before.primaryKey.join('\0') !== definition.primaryKey.join('\0')) {
        throw new SchemaError(
          `Table ${schema}.${table}: the primary key cannot change (declared ${before.primaryKey.join(', ')})`,
        );
      }
      for (const [column, type] of Object.entries(definition.columns)) {
        const old = Object.hasOwn(before.columns, column) ? before.columns[column] : undefined;
        if (old === undefined) {
          version++;
          migrations.push({
            type: 'add_column',
            schema,
            table,
            ddl: addColumnDdl(schema, table, column, type),
            schemaVersion: version,
          });
        } else if (old !== type) {
          throw new SchemaError(`Table ${schema}.${table}: column ${column} cannot change type from ${old} to ${type}`);
        }
      }
    } else if (this.replica.hasTable(schema, table)) {
      // A peer created the table already (or this replica did and crashed before recording the
      // declaration): adopt it rather than racing it with a second create_table.
      version = Math.max(version, 1);
    } else {
      version = 1;
      migrations.push({
        type: 'create_table',
        schema,
        table,
        ddl: createTableDdl(schema, table, definition),
        schemaVersion: version,
      });
    }
    if (migrations.length > 0) commit(migrations);
    if (known && sameDefinition(known.definition, definition)) return;
    const stored: StoredDeclaration = {
      columns: Object.entries(definition.columns),
      primaryKey: [...definition.primaryKey],
      version,
    };
    this.replica.setLocal(storageKey(schema, table), JSON.stringify(stored));
    this.cache.set(key(schema, table), { definition, version });
  }

  /** The highest schemaVersion of a table-kind migration the replica holds for this table. */
  private heldVersion(schema: string, table: string): number {
    let max = 0;
    for (const m of this.replica.listMigrations()) {
      if (m.schema === schema && m.table === table && migrationKind(m.type) === 'table')
        max = Math.max(max, m.schemaVersion);
    }
    return max;
  }

  private load(schema: string, table: string): { definition: TableDefinition; version: number } | undefined {
    const k = key(schema, table);
    const cached = this.cache.get(k);
    if (cached) return cached;
    const text = this.replica.getLocal(storageKey(schema, table));
    if (text === undefined) return undefined;
    const stored = JSON.parse(text) as StoredDeclaration;
    const definition = checkTableDefinition(table, {
      columns: Object.fromEntries(stored.columns),
      primaryKey: stored.primaryKey,
    });
    const entry = { definition, version: stored.version };
    this.cache.set(k, entry);
    return entry;
  }
}

function key(schema: string, table: string): string {
  return JSON.stringify([schema, table]);
}

function storageKey(schema: string, table: string): string {
  return `syncord.table.${key(schema, table)}`;
}
