// applyChanges (PROTOCOL.md §6.3): drift gate, then one all-or-nothing store transaction that
// merges migrations and data and moves the clock.
import { compareHLC, type HLC } from '../clock/hlc.js';
import { checkDrift } from '../clock/hybrid-clock.js';
import type { ApplyResult, Change, ChangeSet, SchemaMigration } from '../wire/types.js';
import { appliedParts } from './applied-sets.js';
import type { Engine } from './engine.js';
import { mergeData, mergeMigrations, type MergeCounts } from './merge.js';
import type { ApplyOptions } from './replica-api.js';
import { assertChangeSets } from './validate-input.js';

/** The newest HLC anywhere in the batch: the set HLCs and, defensively, every fact's. */
function batchMax(sets: readonly ChangeSet[]): HLC | undefined {
  let max: HLC | undefined;
  const see = (h: HLC): void => {
    if (max === undefined || compareHLC(h, max) > 0) max = h;
  };
  for (const cs of sets) {
    see(cs.hlc);
    for (const c of cs.changes) see(c.hlc);
    for (const m of cs.schemaMigrations) see(m.hlc);
  }
  return max;
}

function* allChanges(sets: readonly ChangeSet[]): Iterable<Change> {
  for (const cs of sets) yield* cs.changes;
}

export function applyChangeSets(engine: Engine, sets: readonly ChangeSet[], options?: ApplyOptions): ApplyResult {
  engine.assertOpen();
  assertChangeSets(sets);
  const onApplied = options?.onApplied;
  // Tracked only when asked for: the set costs one insert per applied fact.
  const counts: MergeCounts = {
    applied: 0,
    skipped: 0,
    conflicts: 0,
    ...(onApplied ? { appliedFacts: new Set<Change | SchemaMigration>() } : {}),
  };
  const resultOf = (): ApplyResult => ({
    applied: counts.applied,
    skipped: counts.skipped,
    conflicts: counts.conflicts,
    transactions: sets.length,
  });
  const max = batchMax(sets);
  if (max === undefined) {
    onApplied?.([]);
    return resultOf();
  }
  // Before anything is written: a batch from a clock too far ahead is refused whole.
  const floor = options?.arrivalSeqFloor;
  if (floor === undefined) checkDrift(max.wallTime, engine.now());
  engine.write(() => {
    if (floor !== undefined && floor > engine.lastSeq) engine.lastSeq = floor;
    mergeMigrations(
      engine,
      sets.flatMap((cs) => cs.schemaMigrations),
      counts,
    );
    mergeData(engine, allChanges(sets), counts, options?.ownFacts !== 'apply');
    engine.clock.receive(max, floor === undefined ? 'check' : 'checked');
    // The outbox record commits with the merge or not at all: no applied batch goes unrecorded.
    if (options?.outbox && counts.applied > 0) engine.store.outboxAdd(options.outbox(resultOf()), engine.now());
    if (onApplied) onApplied(counts.applied > 0 ? appliedParts(sets, counts.appliedFacts!) : []);
  });
  return resultOf();
}
