// Proof of convergence: random replicas write, exchange change sets through a relaying hub (as
// the coordinator does) and directly, with drops, duplicates, reordering, late arrivals from
// skewed clocks and snapshot bootstraps (some interrupted and resumed). After a final sync every
// replica holds the same facts, and those facts are exactly what the write log implies.
import {
  compareHLC,
  encodeHLC,
  encodeSqlValue,
  pkKeyOf,
  type ChangeSet,
  type HLC,
  type LocalChange,
  type LocalMigration,
  type Replica,
  type SnapshotChunk,
} from '@syncord/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { collect, cutAfter, dump, FACTORIES } from './helpers.js';

const T0 = 1_700_000_000_000;
const TABLES = ['t0', 't1'];
const COLUMNS = ['a', 'b'];

interface Op {
  readonly del: boolean;
  readonly table: number;
  readonly pk: number;
  readonly big: boolean;
  readonly column: number;
  readonly value: number;
}
type Action =
  | { readonly k: 'write'; readonly who: number; readonly ops: Op[]; readonly ddl: number | null }
  | { readonly k: 'push'; readonly who: number; readonly drop: boolean; readonly dup: boolean; readonly fanout: number }
  | { readonly k: 'pull'; readonly who: number; readonly drop: boolean; readonly batch: number }
  | { readonly k: 'peer'; readonly from: number; readonly to: number; readonly seed: number; readonly dup: boolean }
  | { readonly k: 'bootstrap'; readonly fromHub: boolean; readonly from: number; readonly cut: number | null }
  | { readonly k: 'tick'; readonly ms: number };

const opArb: fc.Arbitrary<Op> = fc.record({
  del: fc.nat(4).map((n) => n === 0),
  table: fc.nat(1),
  pk: fc.integer({ min: 1, max: 4 }),
  big: fc.boolean(),
  column: fc.nat(1),
  value: fc.nat(99),
});
const actionArb: fc.Arbitrary<Action> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      k: fc.constant('write' as const),
      who: fc.nat(9),
      ops: fc.array(opArb, { minLength: 1, maxLength: 4 }),
      ddl: fc.option(fc.nat(3), { freq: 6 }),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      k: fc.constant('push' as const),
      who: fc.nat(9),
      drop: fc.nat(4).map((n) => n === 0),
      dup: fc.boolean(),
      fanout: fc.nat(63),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      k: fc.constant('pull' as const),
      who: fc.nat(9),
      drop: fc.nat(2).map((n) => n === 0),
      batch: fc.integer({ min: 1, max: 6 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      k: fc.constant('peer' as const),
      from: fc.nat(9),
      to: fc.nat(9),
      seed: fc.nat(),
      dup: fc.boolean(),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      k: fc.constant('bootstrap' as const),
      fromHub: fc.boolean(),
      from: fc.nat(9),
      cut: fc.option(fc.integer({ min: 1, max: 12 })),
    }),
  },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('tick' as const), ms: fc.integer({ min: 1, max: 1500 }) }) },
);
const scenarioArb = fc.record({
  clients: fc.integer({ min: 3, max: 5 }),
  // Far-apart clocks make writes reach the hub late with HLCs below other replicas' watermarks.
  skews: fc.array(fc.constantFrom(-25_000, -12_000, 0, 12_000, 25_000), { minLength: 8, maxLength: 8 }),
  allowResurrection: fc.nat(3).map((n) => n === 0),
  // A slow writer: client 0 runs 25 s behind and only sends until the final sync, so its writes
  // reach the hub with HLCs below the watermarks other replicas already hold (late arrivals).
  slow: fc.boolean(),
  actions: fc.array(actionArb, { minLength: 5, maxLength: 40, size: 'max' }),
});

interface Client {
  readonly replica: Replica;
  lastSent?: HLC;
  watermark?: HLC;
}

const maxOf = (sets: readonly ChangeSet[]): HLC =>
  sets.reduce((m, cs) => (compareHLC(cs.hlc, m) > 0 ? cs.hlc : m), sets[0]!.hlc);

function shuffled<T>(items: readonly T[], seed: number): T[] {
  const out = [...items];
  let s = seed || 1;
  for (let i = out.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

function localTx(op: Op): LocalChange {
  const pk = [op.big ? BigInt(op.pk) : op.pk];
  const table = TABLES[op.table]!;
  return op.del
    ? { type: 'delete', schema: 'main', table, pk }
    : { type: 'column', schema: 'main', table, pk, column: COLUMNS[op.column]!, value: `v${op.value}` };
}

/** Cells and tombstones as `key → hlc|value`, keyed by canonical row identity. */
async function semanticState(r: Replica): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for await (const c of r.snapshot()) {
    if (c.type === 'column-versions') {
      for (const e of c.entries) {
        out.set(
          `C ${c.table} ${pkKeyOf(e.pk)} ${e.column}`,
          `${encodeHLC(e.hlc)} ${JSON.stringify(encodeSqlValue(e.value))}`,
        );
      }
    }
    if (c.type === 'tombstone') for (const e of c.entries) out.set(`T ${c.table} ${pkKeyOf(e.pk)}`, encodeHLC(e.hlc));
  }
  return out;
}

/** What the log of every committed transaction implies, by the merge rules. */
function oracle(log: readonly ChangeSet[], allowResurrection: boolean): Map<string, string> {
  const tombs = new Map<string, HLC>();
  const cells = new Map<string, { row: string; hlc: HLC; value: string }>();
  for (const cs of log) {
    for (const c of cs.changes) {
      const row = `${c.table} ${pkKeyOf(c.pk)}`;
      if (c.type === 'delete') {
        const t = tombs.get(row);
        if (!t || compareHLC(c.hlc, t) > 0) tombs.set(row, c.hlc);
      } else {
        const key = `${row} ${c.column}`;
        const prev = cells.get(key);
        if (!prev || compareHLC(c.hlc, prev.hlc) > 0)
          cells.set(key, { row, hlc: c.hlc, value: JSON.stringify(encodeSqlValue(c.value)) });
      }
    }
  }
  const out = new Map<string, string>();
  for (const [row, hlc] of tombs) out.set(`T ${row}`, encodeHLC(hlc));
  for (const [key, cell] of cells) {
    const t = tombs.get(cell.row);
    if (t && (!allowResurrection || compareHLC(t, cell.hlc) >= 0)) continue;
    out.set(`C ${key}`, `${encodeHLC(cell.hlc)} ${cell.value}`);
  }
  return out;
}

describe.each(FACTORIES)('convergence on the %s store', (kind, make) => {
  // CONVERGENCE_RUNS raises the count for a deeper local search.
  const runs = Number(process.env['CONVERGENCE_RUNS'] ?? (kind === 'memory' ? 80 : 30));
  it('ends with every replica equal and nothing acknowledged lost', { timeout: 60_000 + runs * 500 }, async () => {
    await fc.assert(
      fc.asyncProperty(scenarioArb, async ({ clients: n, skews, allowResurrection, slow, actions }) => {
        const f = make();
        try {
          let t = T0;
          const skew = (i: number): number => (slow && i === 0 ? -25_000 : Math.max(-12_000, skews[i] ?? 0));
          const options = (i: number) => ({ now: () => t + skew(i), allowResurrection });
          const hub = f.open({ now: () => t, allowResurrection });
          const clients: Client[] = Array.from({ length: n }, (_, i) => ({ replica: f.open(options(i)) }));
          const log: ChangeSet[] = [];
          const pick = (i: number): Client => clients[i % clients.length]!;
          let isolating = slow;
          const deaf = (c: Client): boolean => isolating && c === clients[0];

          const push = (c: Client, drop: boolean, dup: boolean, fanout: number): boolean => {
            const sets = c.replica.getChangesSince(hub.siteId, c.lastSent, { batchSize: 5 });
            if (sets.length === 0 || drop) return false;
            const result = hub.applyChanges(sets);
            if (dup) hub.applyChanges(sets);
            c.lastSent = maxOf(sets);
            if (result.applied > 0) {
              clients.forEach((o, i) => {
                if (o !== c && fanout & (1 << i) && !deaf(o)) o.replica.applyChanges(sets); // push_changes, fire and forget
              });
            }
            return true;
          };
          const pull = (c: Client, drop: boolean, batch: number): number => {
            const sets = hub.getChangesSince(c.replica.siteId, c.watermark, { batchSize: batch });
            if (drop) return 0;
            c.replica.applyChanges(sets);
            if (sets.length > 0) c.watermark = maxOf(sets); // the real client's rule, even backwards
            return sets.length;
          };

          for (const a of actions) {
            switch (a.k) {
              case 'write': {
                const migrations: LocalMigration[] =
                  a.ddl === null
                    ? []
                    : [
                        {
                          type: 'create_table',
                          schema: 'main',
                          table: TABLES[a.ddl % 2]!,
                          ddl: `create table x${a.ddl}`,
                          schemaVersion: 1 + (a.ddl >> 1),
                        },
                      ];
                log.push(pick(a.who).replica.commitLocal({ changes: a.ops.map(localTx), migrations }));
                break;
              }
              case 'push':
                push(pick(a.who), a.drop, a.dup, a.fanout);
                break;
              case 'pull':
                if (!deaf(pick(a.who))) pull(pick(a.who), a.drop, a.batch);
                break;
              case 'peer': {
                const from = pick(a.from);
                const to = pick(a.to);
                if (from === to || deaf(to)) break;
                const sets = shuffled(from.replica.getChangesSince(to.replica.siteId), a.seed);
                to.replica.applyChanges(a.dup ? [...sets, ...sets] : sets);
                break;
              }
              case 'bootstrap': {
                if (clients.length >= 7) break;
                const fresh: Client = { replica: f.open(options(clients.length)) };
                const source = a.fromHub ? hub : pick(a.from).replica;
                const requester = a.fromHub ? fresh.replica.siteId : undefined;
                let chunks: SnapshotChunk[] = [];
                if (a.cut !== null) {
                  // An interrupted transfer (when the stream is longer than the cut).
                  await fresh.replica
                    .applySnapshot(cutAfter(source.snapshot({ requester, chunkSize: 2 }), a.cut))
                    .catch(() => {});
                }
                const cp = fresh.replica.pendingCheckpoint();
                chunks = await collect(source.snapshot({ requester, chunkSize: 2, ...(cp ? { resume: cp } : {}) }));
                await fresh.replica.applySnapshot(chunks);
                const header = chunks[0];
                if (a.fromHub && header?.type === 'header') fresh.watermark = header.hlc;
                clients.push(fresh);
                break;
              }
              case 'tick':
                t += a.ms;
                break;
            }
          }

          isolating = false;
          // Final sync without faults: every replica pushes all, then pulls until nothing is left.
          for (const c of clients) for (let i = 0; i < 200 && push(c, false, false, 0); i++);
          for (const c of clients) {
            let i = 0;
            while (pull(c, false, 4) > 0) if (++i > 200) throw new Error('catch-up did not terminate');
          }

          const expected = await dump(hub);
          for (const c of clients) expect(await dump(c.replica)).toEqual(expected);
          expect(await semanticState(hub)).toEqual(oracle(log, allowResurrection));
        } finally {
          f.cleanup();
        }
      }),
      { numRuns: runs },
    );
  });
});
