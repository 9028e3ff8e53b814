// Building wire-valid change sets for tests: one transaction per set, facts sharing
// (wallTime, counter, siteId) and numbered by opSeq, `hlc` = the last fact's HLC.
import {
  encodeChangeSet,
  newSiteId,
  transactionIdOf,
  type Change,
  type ChangeSet,
  type HLC,
  type SiteId,
  type SqlValue,
} from '@syncord/core';

export { newSiteId };

/** A wall time comfortably in the past, so no apply trips the drift gate. */
export const BASE_WALL = BigInt(Date.now() - 3_600_000);

function hlc(site: SiteId, wall: bigint, counter: number, opSeq: number): HLC {
  return { wallTime: wall, counter, siteId: site, opSeq };
}

export interface TxOptions {
  readonly wall?: bigint;
  readonly counter?: number;
  readonly schema?: string;
}

/** One transaction writing `columns` of the row `pk` in `table`. */
export function writeRow(
  site: SiteId,
  table: string,
  pk: readonly SqlValue[],
  columns: Readonly<Record<string, SqlValue>>,
  options: TxOptions = {},
): ChangeSet {
  const wall = options.wall ?? BASE_WALL;
  const counter = options.counter ?? 0;
  const schema = options.schema ?? 'main';
  const changes: Change[] = Object.entries(columns).map(([column, value], i) => ({
    type: 'column',
    schema,
    table,
    pk,
    column,
    value,
    hlc: hlc(site, wall, counter, i),
  }));
  return changeSet(site, changes);
}

/** One transaction deleting the row `pk`. */
export function deleteRow(site: SiteId, table: string, pk: readonly SqlValue[], options: TxOptions = {}): ChangeSet {
  const change: Change = {
    type: 'delete',
    schema: options.schema ?? 'main',
    table,
    pk,
    hlc: hlc(site, options.wall ?? BASE_WALL, options.counter ?? 0, 0),
  };
  return changeSet(site, [change]);
}

/** One transaction writing column `column` = `value` of rows `first` … `first + count - 1`. */
export function writeRows(
  site: SiteId,
  table: string,
  first: number,
  count: number,
  column: string,
  value: SqlValue,
  options: TxOptions = {},
): ChangeSet {
  const wall = options.wall ?? BASE_WALL;
  const changes: Change[] = [];
  for (let i = 0; i < count; i++) {
    changes.push({
      type: 'column',
      schema: options.schema ?? 'main',
      table,
      pk: [first + i],
      column,
      value,
      hlc: hlc(site, wall, options.counter ?? 0, i),
    });
  }
  return changeSet(site, changes);
}

function changeSet(site: SiteId, changes: Change[]): ChangeSet {
  const last = changes[changes.length - 1]!.hlc;
  return {
    siteId: site,
    transactionId: transactionIdOf({ ...last, opSeq: 0 }),
    hlc: last,
    changes,
    schemaMigrations: [],
  };
}

/** The JSON of a change set as a client sends it. */
export function wire(cs: ChangeSet): unknown {
  return encodeChangeSet(cs);
}
