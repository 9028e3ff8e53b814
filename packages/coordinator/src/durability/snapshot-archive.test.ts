import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { encodeSnapshotChunk, newSiteId, SNAPSHOT_FORMAT_VERSION, type SnapshotChunk } from '@syncord/core';
import { describe, expect, it } from 'vitest';
import { readSnapshot, type SnapshotEnvelope } from './snapshot-archive.js';

const siteId = newSiteId();
const chunks: SnapshotChunk[] = [
  {
    type: 'header',
    siteId,
    hlc: { wallTime: 1_718_000_000_000n, counter: 0, siteId, opSeq: 0 },
    snapshotFormat: SNAPSHOT_FORMAT_VERSION,
    tableCount: 1,
    migrationCount: 0,
    snapshotId: 's1',
  },
  { type: 'table-start', schema: 'main', table: 't', estimatedEntries: 0 },
  {
    type: 'column-versions',
    schema: 'main',
    table: 't',
    entries: [{ pk: [1n], column: 'c', value: 'a\nb', hlc: { wallTime: 1n, counter: 0, siteId, opSeq: 0 } }],
  },
  { type: 'table-end', schema: 'main', table: 't', entriesWritten: 1 },
  { type: 'footer', snapshotId: 's1', totalTables: 1, totalEntries: 1, totalMigrations: 0 },
];
const envelope = { snapshotId: 's1', databaseId: 'db', timestamp: '2024-06-10T06:13:20.000Z' };

async function read(body: Buffer): Promise<{ envelope?: SnapshotEnvelope; chunks: SnapshotChunk[] }> {
  let seen: SnapshotEnvelope | undefined;
  const out: SnapshotChunk[] = [];
  // Small pieces, so lines and gzip members are split anywhere.
  const pieces = Array.from({ length: Math.ceil(body.length / 7) }, (_, i) => body.subarray(i * 7, i * 7 + 7));
  for await (const chunk of readSnapshot(Readable.from(pieces), 'test', (e) => (seen = e))) out.push(chunk);
  return { ...(seen ? { envelope: seen } : {}), chunks: out };
}

describe('reading a stored snapshot', () => {
  it("reads the reference's single-line document", async () => {
    const text = JSON.stringify({ ...envelope, chunks: chunks.map(encodeSnapshotChunk) });
    expect(await read(gzipSync(text))).toEqual({ envelope, chunks });
  });

  it('reads our line-per-chunk layout, gzipped or already decoded', async () => {
    const lines = chunks.map((c) => JSON.stringify(encodeSnapshotChunk(c)));
    const text = `${JSON.stringify(envelope).slice(0, -1)},"chunks":[\n${lines.join(',\n')}\n]}\n`;
    expect(JSON.parse(text)).toEqual({ ...envelope, chunks: chunks.map(encodeSnapshotChunk) }); // still one JSON document
    expect(await read(gzipSync(text))).toEqual({ envelope, chunks });
    expect(await read(Buffer.from(text))).toEqual({ envelope, chunks });
  });

  it('refuses a truncated body and names it', async () => {
    const lines = chunks.map((c) => JSON.stringify(encodeSnapshotChunk(c)));
    const text = `${JSON.stringify(envelope).slice(0, -1)},"chunks":[\n${lines.slice(0, 3).join(',\n')},\n`;
    await expect(read(gzipSync(text))).rejects.toThrow(/test ends before its last chunk/);
    await expect(read(gzipSync('{"snapshotId":'))).rejects.toThrow(/test is not valid JSON/);
  });
});
