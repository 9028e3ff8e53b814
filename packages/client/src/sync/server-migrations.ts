// The schema migrations one server is known to hold, learned from what it sent (snapshots,
// catch-up pages, broadcasts) and kept in the replica's key/value store next to the watermarks.
// The pusher leaves out a migration of ours the server already has: the same slot at the same or
// a newer HLC (ours would change nothing there), or the same DDL in that slot (an identical
// declaration made by a peer first). A client that may not write then has nothing to push for
// the tables it declared, and a writer does not broadcast a duplicate create_table.
import {
  compareHLC,
  decodeHLC,
  encodeHLC,
  encodeSiteId,
  migrationKind,
  type SchemaMigration,
  type SiteId,
} from '@syncord/core';
import type { LocalKeyValue } from './watermarks.js';

interface Held {
  readonly type: string;
  readonly ddl: string;
  readonly fromTable?: string;
  /** encodeHLC text */
  readonly hlc: string;
}

export class ServerMigrations {
  private readonly key: string;
  private held: Map<string, Held> | undefined;

  constructor(
    private readonly store: LocalKeyValue,
    serverSiteId: SiteId,
  ) {
    this.key = `syncord.server-migrations.${encodeSiteId(serverSiteId)}`;
  }

  /** Migrations received from the server: per slot, the newest is what it holds. */
  record(migrations: readonly SchemaMigration[]): void {
    if (migrations.length === 0) return;
    const held = this.load();
    let changed = false;
    for (const m of migrations) {
      const slot = slotOf(m);
      const known = held.get(slot);
      if (known && compareHLC(decodeHLC(known.hlc, this.key), m.hlc) >= 0) continue;
      held.set(slot, {
        type: m.type,
        ddl: m.ddl,
        ...(m.fromTable !== undefined ? { fromTable: m.fromTable } : {}),
        hlc: encodeHLC(m.hlc),
      });
      changed = true;
    }
    if (changed) this.store.setLocal(this.key, JSON.stringify([...held]));
  }

  /** True when pushing `m` would change nothing on the server. */
  holds(m: SchemaMigration): boolean {
    const known = this.load().get(slotOf(m));
    if (!known) return false;
    if (compareHLC(decodeHLC(known.hlc, this.key), m.hlc) >= 0) return true;
    return known.type === m.type && known.ddl === m.ddl && known.fromTable === m.fromTable;
  }

  private load(): Map<string, Held> {
    if (this.held) return this.held;
    const text = this.store.getLocal(this.key);
    this.held = new Map(text === undefined ? [] : (JSON.parse(text) as [string, Held][]));
    return this.held;
  }
}

/** The engine keeps one migration per (schema, kind, name, version): the slot. */
function slotOf(m: SchemaMigration): string {
  return JSON.stringify([m.schema, migrationKind(m.type), m.table, m.schemaVersion]);
}
