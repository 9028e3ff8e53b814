// The large reads as a client receives them, counted in the frames' text (raw-count.mjs) so that
// the load generator's JSON.parse does not bound the figure. Each checks its counting against a
// real parse: the first page of a catch-up, the first entries chunk and the footer of a snapshot.
/* global fetch, AbortSignal -- Node 20's built-ins */
import http from 'node:http';
import { compareHLC, decodeHLC } from '@syncord/core';
import { occurrences } from './raw-count.mjs';

const cellsIn = (text) => occurrences(text, '{"type":"column",') + occurrences(text, '{"type":"delete",');
const setsIn = (text) => occurrences(text, '"transactionId":');
const entriesIn = (text) => occurrences(text, '{"column":');

/** One get_changes answered by every page (`more`, docs/protocol.md §12): { cells, sets, pages }. */
export async function streamedCatchUp(client, sinceHLC, timeoutMs) {
  const got = { cells: 0, sets: 0, pages: 0 };
  let first;
  await client.requestRaw(
    sinceHLC ? { type: 'get_changes', sinceHLC } : { type: 'get_changes' },
    (raw) => {
      if (!raw.startsWith('{"type":"changes"')) return false;
      got.pages++;
      got.cells += cellsIn(raw);
      got.sets += setsIn(raw);
      first ??= raw;
      return !raw.endsWith('"more":true}');
    },
    timeoutMs,
    'last changes reply',
  );
  const parsed = JSON.parse(first).changeSets;
  const cells = parsed.reduce((n, cs) => n + cs.changes.length, 0);
  if (cells !== cellsIn(first) || parsed.length !== setsIn(first)) {
    throw new Error(`catch-up: counting the text found ${cellsIn(first)} cells, parsing ${cells}`);
  }
  return got;
}

/** The `hlc` of the last change set in a `changes` frame (it follows the set's transactionId). */
function lastSetHlc(raw) {
  const set = raw.lastIndexOf('"transactionId":');
  const at = set < 0 ? -1 : raw.indexOf('"hlc":"', set);
  return at < 0 ? undefined : raw.slice(at + 7, at + 47);
}

/**
 * Pages a catch-up from zero over HTTP (`GET …/changes`, one page per request, each recorded as
 * the site's watermark) until a page ends at or past `until`: resolves to { watermark, cells }.
 * The last page recorded is then that watermark, so a catch-up from it is a real delta; a
 * WebSocket stream cannot be stopped there (pages already on their way are recorded too, and a
 * site keeps only its newest few records).
 */
export async function pageUntil(httpBase, databaseId, siteId, until, timeoutMs) {
  let cells = 0;
  let watermark;
  for (;;) {
    const query = watermark ? `?sinceHLC=${encodeURIComponent(watermark)}` : '';
    const res = await fetch(`${httpBase}/${encodeURIComponent(databaseId)}/changes${query}`, {
      headers: { 'x-site-id': siteId },
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.text();
    if (res.status !== 200) throw new Error(`GET changes answered ${res.status}: ${text.slice(0, 200)}`);
    const last = lastSetHlc(text);
    if (last === undefined) return { watermark, cells };
    cells += cellsIn(text);
    watermark = last;
    if (compareHLC(decodeHLC(watermark), until) >= 0) return { watermark, cells };
  }
}

/** Counts one chunk's entries (column-versions only, as the footer does); parses the others. */
class EntryCounter {
  entries = 0;
  checked = false;
  footer;

  /** `text` is the chunk's JSON, alone or inside a message. */
  add(text, chunkText) {
    if (chunkText.startsWith('{"type":"column-versions"')) {
      const n = entriesIn(chunkText);
      if (!this.checked) {
        const parsed = JSON.parse(text);
        const entries = (parsed.chunk ?? parsed).entries.length;
        if (entries !== n) throw new Error(`snapshot: counting the text found ${n} entries, parsing ${entries}`);
        this.checked = true;
      }
      this.entries += n;
      return;
    }
    if (!chunkText.startsWith('{"type":"tombstone"')) {
      const parsed = JSON.parse(text);
      if (parsed.error !== undefined) throw new Error(`snapshot error: ${parsed.error}`);
      const chunk = parsed.chunk ?? parsed;
      if (chunk.type === 'footer') this.footer = chunk;
    }
  }

  /** The counted entries, once the footer agrees with them. */
  total(what) {
    if (!this.footer) throw new Error(`${what} ended without a footer`);
    if (this.footer.totalEntries !== this.entries) {
      throw new Error(`${what}: footer says ${this.footer.totalEntries} entries, counted ${this.entries}`);
    }
    return this.entries;
  }
}

const CHUNK_PREFIX = '{"type":"snapshot_chunk","chunk":';

/** get_snapshot … snapshot_complete over the socket: { entries }. */
export async function streamedSnapshot(client, timeoutMs) {
  const counter = new EntryCounter();
  await client.requestRaw(
    { type: 'get_snapshot' },
    (raw) => {
      if (raw.startsWith(CHUNK_PREFIX)) counter.add(raw, raw.slice(CHUNK_PREFIX.length));
      return raw === '{"type":"snapshot_complete"}';
    },
    timeoutMs,
    'snapshot_complete',
  );
  return { entries: counter.total('WS snapshot') };
}

/** GET …/snapshot as NDJSON: { entries }. */
export function ndjsonSnapshot(url, siteId, timeoutMs) {
  return new Promise((resolve, reject) => {
    const counter = new EntryCounter();
    let rest = '';
    const line = (text) => {
      if (text.length > 0) counter.add(text, text);
    };
    const req = http.get(url, { headers: { 'x-site-id': siteId }, timeout: timeoutMs }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        reject(new Error(`GET ${url} answered ${res.statusCode}`));
        return;
      }
      res.setEncoding('utf8');
      res.on('data', (text) => {
        try {
          const lines = (rest + text).split('\n');
          rest = lines.pop() ?? '';
          lines.forEach(line);
        } catch (err) {
          req.destroy(err);
        }
      });
      res.on('end', () => {
        try {
          line(rest);
          resolve({ entries: counter.total('NDJSON snapshot') });
        } catch (err) {
          reject(err);
        }
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on('error', reject);
  });
}
