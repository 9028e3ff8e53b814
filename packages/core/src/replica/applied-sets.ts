// What an apply changed, as change sets a relay can pass on: each received set trimmed to the
// facts and migrations that applied. Relaying duplicates or losers would only feed peers old news,
// and a fact that lost here (a forged value repeating a stored HLC, say) must not reach a peer
// that has not yet seen the real one (PROTOCOL.md §6.5).
import { compareHLC, type HLC } from '../clock/hlc.js';
import type { Change, ChangeSet, SchemaMigration } from '../wire/types.js';

/**
 * Sets with nothing applied are left out; a set that applied whole is returned as is; a trimmed
 * copy's `hlc` is its newest remaining fact (same transaction, so `transactionId` stays).
 */
export function appliedParts(sets: readonly ChangeSet[], applied: ReadonlySet<Change | SchemaMigration>): ChangeSet[] {
  const out: ChangeSet[] = [];
  for (const cs of sets) {
    const changes = cs.changes.filter((c) => applied.has(c));
    const schemaMigrations = cs.schemaMigrations.filter((m) => applied.has(m));
    if (changes.length === 0 && schemaMigrations.length === 0) continue;
    if (changes.length === cs.changes.length && schemaMigrations.length === cs.schemaMigrations.length) {
      out.push(cs);
      continue;
    }
    let hlc: HLC | undefined;
    for (const fact of [...schemaMigrations, ...changes]) if (!hlc || compareHLC(fact.hlc, hlc) > 0) hlc = fact.hlc;
    out.push({ siteId: cs.siteId, transactionId: cs.transactionId, hlc: hlc!, changes, schemaMigrations });
  }
  return out;
}
