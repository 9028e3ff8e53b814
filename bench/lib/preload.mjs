// A data dir holding one database with N cells, written once through the coordinator itself (the
// bench never writes SQLite files behind the server's back) and shared by the read scenarios.
import { insertMessages, Writer } from './change-sets.mjs';
import { removeTempDir, tempDir } from './harness.mjs';
import { pushMessages } from './push.mjs';
import { startCoordinator } from './server.mjs';
import { WireClient } from './wire-client.mjs';

export const PRELOADED_DB = 'bench-data';

const preloadKey = (cells, sizes) => `preload-${cells}-${sizes.columns}`;

/** The database preloadedDatabase() built for these sizes; throws if it was not built. */
export function preloaded(shared, cells, sizes) {
  const found = shared[preloadKey(cells, sizes)];
  if (!found) throw new Error(`no preloaded database of ${cells} cells`);
  return found;
}

/**
 * Resolves to { dataDir, databaseId, cells } for a database of about `cells` cells (whole rows of
 * sizes.columns), building it on first use; `shared.cleanups` removes it at the end of the suite.
 */
export async function preloadedDatabase(shared, cells, options) {
  const { sizes } = options;
  const key = preloadKey(cells, sizes);
  if (shared[key]) return shared[key];
  const dataDir = tempDir('preload');
  shared.cleanups.push(() => removeTempDir(dataDir));
  const server = await startCoordinator({ dataDir, env: options.serverEnv });
  try {
    const writer = new Writer();
    const rows = Math.ceil(cells / sizes.columns);
    const messages = insertMessages(writer, { rows, rowsPerTxn: sizes.rowsPerTxn, columns: sizes.columns });
    const client = await WireClient.open(server.wsUrl);
    try {
      await client.handshake(PRELOADED_DB, writer.siteIdText);
      const result = await pushMessages(client, messages, {
        inFlight: sizes.inFlight,
        ackTimeoutMs: sizes.timeoutS * 1000,
      });
      if (result.applied !== result.expected) {
        throw new Error(`preload: ${result.applied} of ${result.expected} cells applied`);
      }
      shared[key] = { dataDir, databaseId: PRELOADED_DB, cells: result.applied };
    } finally {
      await client.close();
    }
  } finally {
    await server.stop();
  }
  return shared[key];
}
