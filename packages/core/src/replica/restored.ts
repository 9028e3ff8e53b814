// A replica rebuilt from a backup must not serve as if it had never handed anything out. A
// protocol snapshot carries neither the watermark records of gap-free catch-up nor what retention
// pruned, and even a file image misses what happened after it was taken. So, once restored:
// - no reply may create a record at or below the restored clock (watermarks.ts "floor"): every
//   watermark the original handed out lies there, and its real coverage is unknown here. The
//   clock then moves one tick on, so snapshots served from now on carry recordable watermarks;
// - if the original pruned tombstones (or may have), every fact held now counts as possibly pruned
//   for the clients of the original, whose watermarks have no record here: they cannot
//   delta-sync (retention.ts), while clients served after the restore get records that can.
import { hlcFromBytes, hlcToBytes, type HLC } from '../clock/hlc.js';
import type { Engine } from './engine.js';
import type { PrunedHorizon } from './replica-api.js';
import { notePruned, prunedMark } from './retention.js';
import { raiseDatabaseFloor } from './watermarks.js';

const NO_HLC = new Uint8Array(30);

export function prunedHorizon(engine: Engine): PrunedHorizon {
  const mark = prunedMark(engine);
  return mark ? hlcFromBytes(mark.hlc) : 'none';
}

export function markRestored(engine: Engine, original: PrunedHorizon): void {
  engine.write(() => {
    const { wallTime, counter } = engine.clock.now();
    // Above every HLC with this (wallTime, counter), whatever its site and opSeq.
    const top = hlcToBytes({ wallTime, counter, siteId: new Uint8Array(16).fill(0xff), opSeq: 0xffff_ffff });
    raiseDatabaseFloor(engine, top);
    // One tick past the floor, so a snapshot taken now (its header is the clock) gets a record.
    engine.clock.tick();
    if (original === 'none') return;
    notePruned(engine, { seq: engine.lastSeq, hlc: original === 'unknown' ? NO_HLC : hlcToBytes(original as HLC) });
  });
}
