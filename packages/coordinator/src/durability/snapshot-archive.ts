// Snapshots in the bucket (PROTOCOL.md §10.2): gzip of
//   {"snapshotId","databaseId","timestamp","prunedHorizon","chunks":[…§5 chunks…]}
// `prunedHorizon` is ours: what retention had pruned when the snapshot was read ("none", or the
// HLC of the newest pruned tombstone), so a restore can keep refusing the watermarks the original
// refused. Snapshots without it (the reference's, or older) restore as "unknown".
// The reference built that JSON in memory; here it is written one chunk per line straight from
// the engine's consistent read through gzip into a multipart upload, so memory stays flat however
// large the database. Reading accepts both our line layout (streamed back chunk by chunk) and the
// reference's single line (parsed whole).
import { once } from 'node:events';
import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { createGunzip, createGzip } from 'node:zlib';
import {
  decodeHLC,
  decodeSnapshotChunk,
  encodeHLC,
  encodeSiteId,
  encodeSnapshotChunk,
  type PrunedHorizon,
  type SnapshotChunk,
  type SnapshotHeader,
} from '@syncord/core';
import { headerSafe } from './batch-record.js';
import type { ObjectStore } from './object-store.js';

export interface SnapshotEnvelope {
  readonly snapshotId: string;
  readonly databaseId: string;
  readonly timestamp: string;
  /** Absent when the snapshot did not record it (then restore treats it as 'unknown'). */
  readonly prunedHorizon?: Exclude<PrunedHorizon, 'unknown'>;
}

export interface SnapshotUploadReport {
  readonly snapshotId: string;
  readonly chunks: number;
  readonly entries: number;
}

/**
 * Streams `chunks` (a replica's snapshot, header first) into `key`. If the upload fails the
 * snapshot read is abandoned (its iterator returned); if the read fails the upload is aborted.
 * `prunedHorizon` is asked once the read has begun: anything pruned before the read is then in
 * it, and anything pruned later is still in the snapshot.
 */
export async function uploadSnapshot(
  store: ObjectStore,
  key: string,
  databaseId: string,
  time: number,
  chunks: AsyncIterable<SnapshotChunk>,
  prunedHorizon: () => PrunedHorizon,
): Promise<SnapshotUploadReport> {
  const iterator = chunks[Symbol.asyncIterator]();
  let finished = false;
  try {
    const first = await iterator.next();
    if (first.done || first.value.type !== 'header') throw new Error('a snapshot stream must start with its header');
    const header: SnapshotHeader = first.value;
    const gzip = createGzip();
    const uploading = store.upload(key, gzip, {
      contentType: 'application/gzip',
      contentEncoding: 'gzip',
      metadata: {
        'x-snapshot-id': header.snapshotId,
        'x-database-id': headerSafe(databaseId),
        'x-table-count': String(header.tableCount),
        'x-site-id': encodeSiteId(header.siteId),
      },
    });
    uploading.catch(() => undefined); // observed below; a failure must not be unhandled meanwhile
    const write = async (text: string): Promise<void> => {
      if (gzip.write(text)) return;
      const drained = once(gzip, 'drain');
      drained.catch(() => undefined); // loses the race when the upload fails first
      await Promise.race([drained, uploading]);
    };
    let count = 1;
    let entries = 0;
    try {
      const pruned = prunedHorizon();
      const opening = JSON.stringify({
        snapshotId: header.snapshotId,
        databaseId,
        timestamp: new Date(time).toISOString(),
        ...(pruned === 'unknown' ? {} : { prunedHorizon: pruned === 'none' ? pruned : encodeHLC(pruned) }),
      });
      await write(`${opening.slice(0, -1)},"chunks":[\n${JSON.stringify(encodeSnapshotChunk(header))}`);
      for (;;) {
        const next = await iterator.next();
        if (next.done) break;
        const chunk = next.value;
        count++;
        if (chunk.type === 'column-versions' || chunk.type === 'tombstone') entries += chunk.entries.length;
        await write(`,\n${JSON.stringify(encodeSnapshotChunk(chunk))}`);
      }
      finished = true;
      gzip.end('\n]}\n');
    } catch (err) {
      gzip.destroy(err as Error);
      await uploading.catch(() => undefined);
      throw err;
    }
    await uploading;
    return { snapshotId: header.snapshotId, chunks: count, entries };
  } finally {
    if (!finished) await iterator.return?.(undefined);
  }
}

const GZIP_MAGIC = [0x1f, 0x8b];

/** The body's bytes, gunzipped when they are gzip (a proxy may already have decoded them). */
export async function* decompressed(body: Readable): AsyncGenerator<Buffer> {
  const source = body[Symbol.asyncIterator]() as AsyncIterator<Buffer | Uint8Array>;
  const first = await source.next();
  if (first.done) return;
  const head = Buffer.from(first.value);
  if (head[0] !== GZIP_MAGIC[0] || head[1] !== GZIP_MAGIC[1]) {
    yield head;
    for (;;) {
      const next = await source.next();
      if (next.done) return;
      yield Buffer.from(next.value);
    }
  }
  const gunzip = createGunzip();
  const feed = (async () => {
    try {
      let chunk: Buffer | Uint8Array = head;
      for (;;) {
        if (!gunzip.write(chunk)) await once(gunzip, 'drain');
        const next = await source.next();
        if (next.done) break;
        chunk = next.value;
      }
      gunzip.end();
    } catch (err) {
      gunzip.destroy(err as Error);
    }
  })();
  try {
    for await (const out of gunzip) yield out as Buffer;
  } finally {
    gunzip.destroy();
    await feed;
    await source.return?.();
  }
}

/** UTF-8 lines of a byte stream. */
export async function* lines(bytes: AsyncIterable<Buffer>): AsyncGenerator<string> {
  const decoder = new StringDecoder('utf8');
  let pending = '';
  for await (const part of bytes) {
    pending += decoder.write(part);
    let newline: number;
    while ((newline = pending.indexOf('\n')) >= 0) {
      yield pending.slice(0, newline);
      pending = pending.slice(newline + 1);
    }
  }
  pending += decoder.end();
  if (pending !== '') yield pending;
}

function envelopeOf(json: unknown, where: string): { envelope: SnapshotEnvelope; chunks: unknown } {
  if (typeof json !== 'object' || json === null) throw new Error(`${where} is not a snapshot object`);
  const { snapshotId, databaseId, timestamp, prunedHorizon, chunks } = json as Record<string, unknown>;
  if (typeof snapshotId !== 'string' || typeof databaseId !== 'string' || typeof timestamp !== 'string') {
    throw new Error(`${where} lacks snapshotId, databaseId or timestamp`);
  }
  const envelope: SnapshotEnvelope = { snapshotId, databaseId, timestamp };
  if (prunedHorizon === undefined) return { envelope, chunks };
  const pruned = prunedHorizon === 'none' ? 'none' : decodeHLC(prunedHorizon, `${where} prunedHorizon`);
  return { envelope: { ...envelope, prunedHorizon: pruned }, chunks };
}

function parse(text: string, where: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new Error(`${where} is not valid JSON: ${(err as Error).message}`);
  }
}

/**
 * A stored snapshot: its envelope, then its chunks decoded one at a time. `onEnvelope` runs
 * before the first chunk is yielded.
 */
export async function* readSnapshot(
  body: Readable,
  where: string,
  onEnvelope: (envelope: SnapshotEnvelope) => void,
): AsyncGenerator<SnapshotChunk> {
  const source = lines(decompressed(body));
  const first = await source.next();
  if (first.done) throw new Error(`${where} is empty`);
  const opening = first.value;
  if (opening.endsWith('"chunks":[')) {
    onEnvelope(envelopeOf(parse(`${opening}]}`, where), where).envelope);
    let index = 0;
    let closed = false;
    for await (const line of source) {
      if (line === ']}') {
        closed = true;
        continue;
      }
      if (line === '' || closed) continue;
      const text = line.endsWith(',') ? line.slice(0, -1) : line;
      yield decodeSnapshotChunk(parse(text, `${where} chunk ${index}`), `${where} chunk ${index}`);
      index++;
    }
    if (!closed) throw new Error(`${where} ends before its last chunk (truncated)`);
    return;
  }
  // The reference's layout: the whole document on one line.
  let text = opening;
  for await (const line of source) text += `\n${line}`;
  const { envelope, chunks } = envelopeOf(parse(text, where), where);
  onEnvelope(envelope);
  if (!Array.isArray(chunks)) throw new Error(`${where} has no chunks array`);
  let index = 0;
  for (const chunk of chunks) {
    yield decodeSnapshotChunk(chunk, `${where} chunk ${index}`);
    index++;
  }
}
