// What the clients of a crash test know about one data dir (every fact sent, the acknowledged
// ones), what a server serves back from any read path, and the check between the two: every
// acknowledged fact is served, every served fact was sent exactly so.
import type { ChangeSet } from '@syncord/core';
import { expect } from 'vitest';
import { wire } from './change-sets.js';
import type { ServerJson } from './ws-client.js';

export const rowKey = (db: string, table: string, pk: unknown) => `${db}|${table}|${JSON.stringify(pk)}`;
export const show = (v: unknown) => JSON.stringify(v);

interface Cell {
  readonly hlc: string;
  readonly value: string; // JSON of the wire value
}
interface Row {
  readonly cells: Map<string, Cell>;
  /** The delete's HLC once it was acknowledged. */
  deleted?: string;
  /** A delete was sent but its ack never came: either outcome is legal. */
  maybeDeleted?: string;
}

/** What the clients of one data dir know: every fact they sent and the ones acknowledged. */
export class Ledger {
  readonly sent = new Map<string, Cell>(); // rowKey|column → cell; rowKey|delete → hlc
  readonly acked = new Map<string, Row>(); // rowKey → row, only rows with at least one acked write
  readonly serverSites = new Map<string, string>();
  ackedApplies = 0;
  /** Applies sent whose answer never came (the server died first). */
  unackedApplies = 0;
  /** Kills that cut at least one apply off before its answer. */
  killsMidApply = 0;

  recordSent(db: string, cs: ChangeSet): void {
    for (const c of (wire(cs) as { changes: WireChange[] }).changes) {
      const key = rowKey(db, c.table, c.pk);
      if (c.type === 'delete') this.sent.set(`${key}|delete`, { hlc: c.hlc, value: 'null' });
      else this.sent.set(`${key}|${c.column}`, { hlc: c.hlc, value: show(c.value) });
    }
  }

  recordOutcome(db: string, sets: readonly ChangeSet[], acked: boolean): void {
    if (acked) this.ackedApplies++;
    else this.unackedApplies++;
    for (const cs of sets) {
      for (const c of (wire(cs) as { changes: WireChange[] }).changes) {
        const key = rowKey(db, c.table, c.pk);
        if (c.type === 'delete') {
          const row = this.acked.get(key);
          if (!row) continue; // writers only delete acked rows
          if (acked) row.deleted = c.hlc;
          else row.maybeDeleted = c.hlc;
        } else if (acked) {
          const row = this.acked.get(key) ?? { cells: new Map<string, Cell>() };
          row.cells.set(c.column, { hlc: c.hlc, value: show(c.value) });
          this.acked.set(key, row);
        }
      }
    }
  }
}

export interface WireChange {
  readonly type: 'column' | 'delete';
  readonly table: string;
  readonly pk: unknown[];
  readonly column: string;
  readonly value: unknown;
  readonly hlc: string;
}

/** The facts a server serves for one database, from any of the three read paths. */
export interface Served {
  readonly cells: Map<string, Cell>; // rowKey|column
  readonly tombstones: Map<string, string>; // rowKey → hlc
}

export function servedFromChangeSets(db: string, changeSets: readonly { changes: WireChange[] }[]): Served {
  const served: Served = { cells: new Map(), tombstones: new Map() };
  for (const cs of changeSets) {
    for (const c of cs.changes) {
      const key = rowKey(db, c.table, c.pk);
      if (c.type === 'delete') served.tombstones.set(key, c.hlc);
      else served.cells.set(`${key}|${c.column}`, { hlc: c.hlc, value: show(c.value) });
    }
  }
  return served;
}

export function servedFromSnapshot(db: string, chunks: readonly ServerJson[]): Served {
  const served: Served = { cells: new Map(), tombstones: new Map() };
  for (const { chunk } of chunks as unknown as { chunk: Record<string, unknown> }[]) {
    const entries = (chunk['entries'] ?? []) as Record<string, unknown>[];
    for (const e of entries) {
      const key = rowKey(db, chunk['table'] as string, e['pk']);
      if (chunk['type'] === 'tombstone') served.tombstones.set(key, e['hlc'] as string);
      else if (chunk['type'] === 'column-versions')
        served.cells.set(`${key}|${e['column'] as string}`, { hlc: e['hlc'] as string, value: show(e['value']) });
    }
  }
  return served;
}

/** Every acked fact is served; every served fact was sent, exactly as sent. */
export function checkServed(ledger: Ledger, db: string, served: Served, where: string): void {
  const ctx = where;
  for (const [key, cell] of served.cells) {
    expect(ledger.sent.get(key), `${ctx}: served cell ${key} was never sent like this`).toEqual(cell);
  }
  for (const [key, hlc] of served.tombstones) {
    expect(ledger.sent.get(`${key}|delete`)?.hlc, `${ctx}: served delete ${key} was never sent`).toBe(hlc);
  }
  for (const [key, row] of ledger.acked) {
    if (!key.startsWith(`${db}|`)) continue;
    const tombstone = served.tombstones.get(key);
    const cellsOf = () => [...row.cells.keys()].map((column) => served.cells.get(`${key}|${column}`));
    if (row.deleted !== undefined) {
      expect(tombstone, `${ctx}: acked delete of ${key} lost`).toBe(row.deleted);
      expect(cellsOf().filter(Boolean), `${ctx}: cells of deleted row ${key} still served`).toEqual([]);
    } else if (row.maybeDeleted !== undefined && tombstone === row.maybeDeleted) {
      expect(cellsOf().filter(Boolean), `${ctx}: cells of deleted row ${key} still served`).toEqual([]);
    } else {
      expect(tombstone, `${ctx}: row ${key} has a tombstone no one acked or sent last`).toBeUndefined();
      expect(cellsOf(), `${ctx}: acked cells of ${key} lost`).toEqual([...row.cells.values()]);
    }
  }
}
