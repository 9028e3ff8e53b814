// The batch object of PROTOCOL.md §10.2: one per apply with applied > 0, holding the approved
// change sets. Built inside the apply's transaction (it goes into the outbox with the merge) and
// uploaded later, so its time is the apply's, not the upload's: restore and point-in-time restore
// order batches against snapshots by it.
import {
  decodeChangeSet,
  decodeSiteId,
  encodeChangeSet,
  encodeSiteId,
  type ApplyResult,
  type ChangeSet,
  type SiteId,
} from '@syncord/core';
import type { ObjectWrite } from './object-store.js';

export interface BatchBody {
  readonly batchId: string;
  readonly databaseId: string;
  /** ISO time of the apply. */
  readonly timestamp: string;
  /** The submitter's site id (base64url). */
  readonly clientId: string;
  readonly changes: unknown[];
  readonly metadata: { applied: number; skipped: number; conflicts: number };
  /**
   * Syncord's extension (unknown fields are ignored by readers): the database's server site id,
   * so a database restored from batches alone keeps its identity.
   */
  readonly serverSiteId?: string;
  /** Syncord's extension in a cluster: the entry's position in the shared log. */
  readonly logSeq?: number;
}

export interface BatchInput {
  readonly databaseId: string;
  readonly clientId: SiteId;
  readonly serverSiteId: SiteId;
  readonly changeSets: readonly ChangeSet[];
  readonly result: ApplyResult;
  readonly time: number;
  /** A cluster derives the id from the entry, so every node writes the same object. */
  readonly batchId?: string;
  readonly logSeq?: number;
}

/** The §10.2 body as JSON text. */
export function encodeBatch(input: BatchInput): string {
  const body: BatchBody = {
    batchId: input.batchId ?? globalThis.crypto.randomUUID(),
    databaseId: input.databaseId,
    timestamp: new Date(input.time).toISOString(),
    clientId: encodeSiteId(input.clientId),
    changes: input.changeSets.map(encodeChangeSet),
    metadata: { applied: input.result.applied, skipped: input.result.skipped, conflicts: input.result.conflicts },
    serverSiteId: encodeSiteId(input.serverSiteId),
    ...(input.logSeq !== undefined ? { logSeq: input.logSeq } : {}),
  };
  return JSON.stringify(body);
}

export interface DecodedBatch {
  readonly batchId: string;
  readonly databaseId: string;
  readonly time: number;
  readonly clientId: string;
  readonly changeSets: ChangeSet[];
  readonly metadata: BatchBody['metadata'];
  readonly serverSiteId?: SiteId;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Reads a batch body (ours or the reference's); throws naming `where` when it is not one. */
export function decodeBatch(text: string, where: string): DecodedBatch {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new Error(`${where} is not JSON: ${(err as Error).message}`);
  }
  if (!isRecord(json)) throw new Error(`${where} is not a batch object`);
  const { batchId, databaseId, timestamp, clientId, changes, metadata, serverSiteId } = json;
  if (typeof batchId !== 'string' || typeof databaseId !== 'string' || typeof timestamp !== 'string') {
    throw new Error(`${where} lacks batchId, databaseId or timestamp`);
  }
  const time = Date.parse(timestamp);
  if (Number.isNaN(time)) throw new Error(`${where} has a bad timestamp ${JSON.stringify(timestamp)}`);
  if (!Array.isArray(changes)) throw new Error(`${where} has no changes array`);
  const counts = isRecord(metadata) ? metadata : {};
  const count = (v: unknown): number => (typeof v === 'number' ? v : 0);
  return {
    batchId,
    databaseId,
    time,
    clientId: typeof clientId === 'string' ? clientId : '',
    changeSets: changes.map((c, i) => decodeChangeSet(c, `${where} changes[${i}]`)),
    metadata: { applied: count(counts.applied), skipped: count(counts.skipped), conflicts: count(counts.conflicts) },
    ...(typeof serverSiteId === 'string' ? { serverSiteId: decodeSiteId(serverSiteId, `${where} serverSiteId`) } : {}),
  };
}

/** What the uploader needs of a body without decoding its changes. */
export interface BatchHead {
  readonly batchId: string;
  readonly databaseId: string;
  readonly time: number;
  readonly clientId: string;
  readonly changeCount: number;
  readonly logSeq?: number;
}

export function batchHead(text: string): BatchHead {
  const json = JSON.parse(text) as Partial<BatchBody>;
  const time = Date.parse(String(json.timestamp));
  if (typeof json.batchId !== 'string' || typeof json.databaseId !== 'string' || Number.isNaN(time)) {
    throw new Error('outbox entry is not a batch body');
  }
  return {
    batchId: json.batchId,
    databaseId: json.databaseId,
    time,
    clientId: typeof json.clientId === 'string' ? json.clientId : '',
    changeCount: Array.isArray(json.changes) ? json.changes.length : 0,
    ...(typeof json.logSeq === 'number' ? { logSeq: json.logSeq } : {}),
  };
}

/** S3 user metadata travels in HTTP headers: anything but printable ASCII is percent-encoded. */
export function headerSafe(value: string): string {
  return /^[\x20-\x7e]*$/.test(value) ? value : encodeURIComponent(value);
}

/** §10.2's content type and user metadata of a batch object. */
export function batchObjectWrite(head: BatchHead): ObjectWrite {
  return {
    contentType: 'application/json',
    metadata: {
      'x-batch-id': head.batchId,
      'x-database-id': headerSafe(head.databaseId),
      'x-client-id': head.clientId,
      'x-change-count': String(head.changeCount),
    },
  };
}
