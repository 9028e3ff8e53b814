// Retention horizon (PROTOCOL.md §6.9, DESIGN.md item 6): tombstones and watermark bookkeeping
// older than the horizon are pruned, and a watermark that may not have seen a pruned tombstone
// can no longer delta-sync (the coordinator answers RESYNC_REQUIRED; the client re-bootstraps).
import { compareBytes, fromHex, toHex } from '../clock/bytes.js';
import type { DeltaSyncCheck } from './replica-api.js';
import { META, type Engine } from './engine.js';
import { coveredSeq, forgetWatermarksUsedBefore } from './watermarks.js';

interface PrunedMark {
  readonly seq: number;
  readonly hlc: Uint8Array;
}

export function prunedMark(engine: Engine): PrunedMark | undefined {
  const seq = engine.store.getMeta(META.maxPrunedSeq);
  const hlc = engine.store.getMeta(META.maxPrunedHlc);
  return seq === undefined || hlc === undefined ? undefined : { seq: Number(seq), hlc: fromHex(hlc) };
}

/**
 * Raises the pruned mark to cover `mark`: a watermark then delta-syncs only if its coverage
 * reaches mark.seq and it is not below mark.hlc. Call inside `engine.write`.
 */
export function notePruned(engine: Engine, mark: PrunedMark): void {
  const prev = prunedMark(engine);
  const seq = Math.max(prev?.seq ?? 0, mark.seq);
  const hlc = prev && compareBytes(prev.hlc, mark.hlc) > 0 ? prev.hlc : mark.hlc;
  engine.store.setMeta(META.maxPrunedSeq, String(seq));
  engine.store.setMeta(META.maxPrunedHlc, toHex(hlc));
}

/** Deletes tombstones older than the horizon and watermark records unused for as long. */
export function pruneTombstones(engine: Engine, horizonMs: number): number {
  if (!Number.isFinite(horizonMs) || horizonMs < 0) {
    throw new RangeError(`horizonMs must be a non-negative number, got ${horizonMs}`);
  }
  return engine.write(() => {
    const cutoff = engine.now() - horizonMs;
    const result = engine.store.pruneTombstones(cutoff);
    if (result.removed > 0 && result.maxHlc) notePruned(engine, { seq: result.maxSeq, hlc: result.maxHlc });
    forgetWatermarksUsedBefore(engine, cutoff);
    return result.removed;
  });
}

/**
 * Safe iff nothing was ever pruned, or every pruned tombstone provably reached the requester:
 * its HLC ≤ W and its seq ≤ the coverage recorded for (requester, W).
 */
export function canDeltaSync(engine: Engine, requester: Uint8Array, since: Uint8Array): DeltaSyncCheck {
  const pruned = prunedMark(engine);
  if (!pruned) return { ok: true };
  if (compareBytes(pruned.hlc, since) > 0) {
    return { ok: false, reason: 'tombstones newer than the watermark were pruned past the retention horizon' };
  }
  if (pruned.seq > coveredSeq(engine, requester, since)) {
    return {
      ok: false,
      reason: 'the watermark is unknown or expired and tombstones were pruned since; a snapshot is required',
    };
  }
  return { ok: true };
}
