// The seam between the service and where a database's applies are ordered and made durable
// (docs/cluster.md "The seam"). One node alone: the database's group commit in this process. A
// cluster: a shared log every node merges in the same order. The service only ever submits an
// apply and waits for its outcome; what was merged, from here or from another node, comes back
// through `onMerged` so broadcasts work the same either way.
import type { ApplyBatch, ApplyResult, ChangeSet, Replica, ReplicaOptions, SiteId } from '@syncord/core';
import type { SharedArchive } from '../durability/shared-archive.js';
import { GroupCommit } from './group-commit.js';
import { checkOrigins } from './origin-check.js';
import type { RejectedChangeSet } from './types.js';

/** One apply past its hooks, as it enters the database's arrival order. */
export interface ArrivalRequest {
  /** The site the session claims: the origin check and the broadcast filter use it. */
  readonly siteId: SiteId;
  /** What the approval hook let through. */
  readonly changeSets: readonly ChangeSet[];
  /** Refuse sets carrying another site's facts the database does not hold (sync.originCheck). */
  readonly checkOrigins: boolean;
  /** S3 batch record of what passed the origin check (single node with S3 on). */
  readonly outbox?: (allowed: readonly ChangeSet[]) => ((result: ApplyResult) => string) | undefined;
}

/** An apply merged and durable. */
export interface MergedArrival {
  readonly result: ApplyResult;
  /** The sets that passed the origin check (all of them when it is off). */
  readonly allowed: readonly ChangeSet[];
  readonly refused: readonly RejectedChangeSet[];
}

/** Told of every apply merged into a database here, whichever node received it. */
export type MergedListener = (databaseId: string, origin: SiteId, applied: readonly ChangeSet[]) => void;

export interface Arrivals {
  /** Connects what it needs before the node takes traffic. */
  start(): Promise<void>;
  /** Resolves once the apply is durable and merged into `replica` (so a read here sees it). */
  submit(databaseId: string, replica: Replica, request: ArrivalRequest): Promise<MergedArrival>;
  /** Resolves once `replica` holds every apply acknowledged (by any node) before the call. */
  caughtUp(databaseId: string): Promise<void>;
  /** Store lifecycle: how a database's replica is created, opened and closed. */
  readonly storeHooks: ArrivalStoreHooks;
  /** Why this node should not take traffic now ([] when it should). */
  readinessProblems(): string[];
  close(): Promise<void>;
}

/** What the store manager asks of the arrivals when a database opens or closes. */
export interface ArrivalStoreHooks {
  /** The server site id a new database file must get (undefined: a fresh one). */
  siteIdFor(databaseId: string): Promise<SiteId | undefined>;
  /** Options for the replica's open (a cluster shares the coverage records it writes). */
  replicaOptions(databaseId: string): Pick<ReplicaOptions, 'onCoverage'>;
  /** After the replica opened, before it serves anyone. */
  opened(databaseId: string, replica: Replica): Promise<void>;
  /** Before the replica closes. */
  closing(databaseId: string): Promise<void>;
  /** A shared log S3 archiving coordinates through (a cluster's); absent on a single node. */
  readonly sharedArchive?: SharedArchive;
}

/**
 * The merge step of one apply, built inside the merging transaction right before it runs: the
 * origin check there sees every apply merged before it, so its verdict holds when merged.
 */
export function arrivalBatch(
  replica: Replica,
  request: ArrivalRequest,
  extra?: { readonly arrivalSeqFloor?: number },
): { build: () => ApplyBatch; outcome: (result: ApplyResult) => MergedArrival; applied: () => ChangeSet[] } {
  let allowed: readonly ChangeSet[] = request.changeSets;
  let refused: readonly RejectedChangeSet[] = [];
  let applied: ChangeSet[] = [];
  const build = (): ApplyBatch => {
    if (request.checkOrigins && request.changeSets.length > 0) {
      ({ allowed, refused } = checkOrigins(replica, request.siteId, request.changeSets));
    }
    const outbox = request.outbox?.(allowed);
    return {
      changeSets: allowed,
      options: {
        onApplied: (sets: ChangeSet[]) => void (applied = sets),
        ...(outbox ? { outbox } : {}),
        ...(extra?.arrivalSeqFloor !== undefined ? { arrivalSeqFloor: extra.arrivalSeqFloor } : {}),
      },
    };
  };
  return { build, outcome: (result) => ({ result, allowed, refused }), applied: () => applied };
}

const NO_STORE_HOOKS: ArrivalStoreHooks = {
  siteIdFor: () => Promise.resolve(undefined),
  replicaOptions: () => ({}),
  opened: () => Promise.resolve(),
  closing: () => Promise.resolve(),
};

/** One node alone: the database's group commit is the arrival order, its fsync the durability. */
export class LocalArrivals implements Arrivals {
  private readonly commits = new GroupCommit();
  readonly storeHooks = NO_STORE_HOOKS;

  constructor(private readonly onMerged: MergedListener) {}

  start(): Promise<void> {
    return Promise.resolve();
  }

  async submit(databaseId: string, replica: Replica, request: ArrivalRequest): Promise<MergedArrival> {
    const step = arrivalBatch(replica, request);
    const result = await this.commits.submit(replica, step.build);
    const applied = step.applied();
    if (applied.length > 0) this.onMerged(databaseId, request.siteId, applied);
    return step.outcome(result);
  }

  caughtUp(): Promise<void> {
    return Promise.resolve();
  }

  readinessProblems(): string[] {
    return [];
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
