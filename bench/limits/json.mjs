// JSON limits on v1 change-set messages: how fast this machine's V8 can JSON.parse an
// apply_changes message, stringify it back, and parse + run the core ChangeSet decoder (the
// validation every message gets at the edge). Counts are fixed; no timing decides the loop length.
import { decodeChangeSet } from '@syncord/core';
import { performance } from 'node:perf_hooks';
import { insertMessages, Writer } from '../lib/change-sets.mjs';
import { median, perSecond } from '../lib/stats.mjs';

const DISTINCT_MESSAGES = 20;

function timeLoop(messages, passes, body) {
  let cells = 0;
  let bytes = 0;
  const start = performance.now();
  for (let p = 0; p < passes; p++) {
    for (const m of messages) {
      body(m);
      cells += m.cells;
      bytes += m.bytes;
    }
  }
  const elapsedMs = performance.now() - start;
  return { cellsPerSec: perSecond(cells, elapsedMs), mbPerSec: perSecond(bytes, elapsedMs) / 1e6 };
}

/** { jsonParseMbPerSec, jsonParseCellsPerSec, jsonStringifyCellsPerSec, decodeCellsPerSec } (medians). */
export function measureJson(sizes) {
  const writer = new Writer();
  const messages = insertMessages(writer, {
    rows: sizes.rowsPerTxn * DISTINCT_MESSAGES,
    rowsPerTxn: sizes.rowsPerTxn,
    columns: sizes.columns,
  }).map((m) => ({ ...m, bytes: Buffer.byteLength(m.text), parsed: JSON.parse(m.text) }));
  const cellsPerPass = messages.reduce((n, m) => n + m.cells, 0);
  const passes = Math.max(1, Math.ceil(sizes.limitCells / cellsPerPass));
  let sink = 0; // keeps the optimiser from dropping the work
  const runs = [];
  for (let r = 0; r < Math.max(1, sizes.runs); r++) {
    timeLoop(messages, 1, (m) => (sink += JSON.parse(m.text).changes.length)); // warm-up
    const parse = timeLoop(messages, passes, (m) => (sink += JSON.parse(m.text).changes.length));
    const stringify = timeLoop(messages, passes, (m) => (sink += JSON.stringify(m.parsed).length));
    const decode = timeLoop(messages, passes, (m) => {
      for (const cs of JSON.parse(m.text).changes) sink += decodeChangeSet(cs).changes.length;
    });
    runs.push({ parse, stringify, decode });
  }
  if (sink < 0) console.log(sink);
  return {
    jsonParseMbPerSec: median(runs.map((r) => r.parse.mbPerSec)),
    jsonParseCellsPerSec: median(runs.map((r) => r.parse.cellsPerSec)),
    jsonStringifyCellsPerSec: median(runs.map((r) => r.stringify.cellsPerSec)),
    decodeCellsPerSec: median(runs.map((r) => r.decode.cellsPerSec)),
  };
}
