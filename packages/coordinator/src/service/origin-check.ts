// Origin checks (DESIGN item 5): a client may introduce facts only under the site id it
// authenticated as. A fact of another site is legal only when the server already holds it at the
// same or a newer version: real clients re-push what they received from the server.
import { bytesEqual, encodeSiteId, type ChangeSet, type Replica, type SiteId } from '@syncord/core';
import type { CoordinatorConfig } from '../config/types.js';
import type { RejectedChangeSet } from './types.js';

/** The `code` of an origin refusal in `apply_result.rejected`. */
export const ORIGIN_MISMATCH = 'ORIGIN_MISMATCH';

/** `auto` means strict whenever clients prove who they are (auth.mode other than none). */
export function originCheckIsStrict(config: CoordinatorConfig): boolean {
  const mode = config.sync.originCheck;
  return mode === 'strict' || (mode === 'auto' && config.auth.mode !== 'none');
}

export interface OriginVerdict {
  readonly allowed: ChangeSet[];
  readonly refused: RejectedChangeSet[];
}

/**
 * Splits change sets into those `site` may push and those carrying a fact of another site that
 * `replica` does not hold. Read-only and synchronous: the caller applies `allowed` right after,
 * with no await in between, so the verdict still holds when they are merged.
 */
export function checkOrigins(replica: Replica, site: SiteId, changeSets: readonly ChangeSet[]): OriginVerdict {
  const allowed: ChangeSet[] = [];
  const refused: RejectedChangeSet[] = [];
  for (const change of changeSets) {
    const facts = [...change.schemaMigrations, ...change.changes];
    const forged = facts.find((fact) => !bytesEqual(fact.hlc.siteId, site) && !replica.holds(fact));
    if (forged === undefined) {
      allowed.push(change);
      continue;
    }
    refused.push({
      change,
      code: ORIGIN_MISMATCH,
      reason:
        `Change set ${change.transactionId} carries a fact of site ${encodeSiteId(forged.hlc.siteId)} that ` +
        `this server does not hold; a client may introduce facts only under its own site id ${encodeSiteId(site)}`,
      table: forged.table,
    });
  }
  return { allowed, refused };
}
