// A database too large to build for every suite run (millions of cells), written once through the
// coordinator like preload.mjs and kept under bench/.out/preload/ for the next runs. Its
// `built.json` is written last, so a build that was interrupted is found incomplete and redone.
// The runs that use it only add bookkeeping (watermark records), never cells.

import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { insertMessages, Writer } from './change-sets.mjs';
import { OUT_DIR } from './harness.mjs';
import { PRELOADED_DB } from './preload.mjs';
import { pushMessages } from './push.mjs';
import { startCoordinator } from './server.mjs';
import { WireClient } from './wire-client.mjs';

/** Transactions generated and pushed at a time, so the load generator never holds the whole load. */
const MESSAGES_PER_BATCH = 500;

/** Resolves to { dataDir, databaseId, cells, middleHlc }: `middleHlc` ends the transaction written at about half. */
export async function cachedDatabase(cells, options, log) {
  const { sizes } = options;
  const dir = path.join(OUT_DIR, 'preload', `${cells}-cells-${sizes.columns}-columns-${sizes.rowsPerTxn}-rows-per-txn`);
  const builtFile = path.join(dir, 'built.json');
  if (existsSync(builtFile)) return JSON.parse(readFileSync(builtFile, 'utf8'));

  rmSync(dir, { recursive: true, force: true });
  const dataDir = path.join(dir, 'data');
  mkdirSync(dataDir, { recursive: true });
  log(`building a ${cells.toLocaleString('en-US')}-cell database once, into ${dir}`);
  const server = await startCoordinator({ dataDir, env: options.serverEnv });
  try {
    const writer = new Writer();
    const rows = Math.ceil(cells / sizes.columns);
    const client = await WireClient.open(server.wsUrl);
    let applied = 0;
    let middle;
    try {
      await client.handshake(PRELOADED_DB, writer.siteIdText);
      // At least ten batches, so that one ends near the middle.
      const txns = Math.max(1, Math.min(MESSAGES_PER_BATCH, Math.floor(rows / sizes.rowsPerTxn / 10)));
      const rowsPerBatch = txns * sizes.rowsPerTxn;
      for (let firstId = 1, batch = 0; firstId <= rows; firstId += rowsPerBatch, batch++) {
        const messages = insertMessages(writer, {
          rows: Math.min(rowsPerBatch, rows - firstId + 1),
          rowsPerTxn: sizes.rowsPerTxn,
          columns: sizes.columns,
          firstId,
          requestPrefix: `b${batch}-`,
        });
        const result = await pushMessages(client, messages, {
          inFlight: sizes.inFlight,
          ackTimeoutMs: sizes.timeoutS * 1000,
        });
        if (result.applied !== result.expected) {
          throw new Error(`cached preload: ${result.applied} of ${result.expected} cells applied`);
        }
        applied += result.applied;
        middle ??= applied >= cells / 2 ? messages.at(-1).hlc : undefined;
        if (batch % 10 === 9) log(`  ${applied.toLocaleString('en-US')} cells`);
      }
    } finally {
      await client.close();
    }
    const built = {
      dataDir,
      databaseId: PRELOADED_DB,
      cells: applied,
      middleHlc: middle,
    };
    writeFileSync(builtFile, JSON.stringify(built, null, 2));
    return built;
  } finally {
    await server.stop();
  }
}
