// Group commit: several applies merged in one store transaction, so they share one durable commit
// (one fsync) instead of paying one each, while each keeps its own all-or-nothing outcome.
import type { ApplyResult } from '../wire/types.js';
import { applyChangeSets } from './apply-changes.js';
import type { Engine } from './engine.js';
import type { ApplyBatch } from './replica-api.js';

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

/**
 * Applies each batch in order inside one transaction, each as its own savepoint: a batch that
 * fails leaves nothing of itself and gets its error in its slot; the others are unaffected. A
 * batch given as a function is built inside the transaction right before it merges, so what it
 * reads (an origin check, say) sees the earlier batches' writes. Nothing is durable before the
 * one commit at the end; if that commit fails, every slot holds its error.
 */
export function applyGroup(
  engine: Engine,
  batches: ReadonlyArray<ApplyBatch | (() => ApplyBatch)>,
  options?: { readonly durable?: boolean },
): Array<ApplyResult | Error> {
  engine.assertOpen();
  const results: Array<ApplyResult | Error> = [];
  try {
    engine.write(() => {
      for (const batch of batches) {
        try {
          results.push(
            engine.savepoint(() => {
              const { changeSets, options } = typeof batch === 'function' ? batch() : batch;
              return applyChangeSets(engine, changeSets, options);
            }),
          );
        } catch (err) {
          results.push(asError(err));
        }
      }
    }, options);
  } catch (err) {
    const failed = asError(err);
    return batches.map(() => failed);
  }
  return results;
}
