// The physical limits the hot paths live under on this machine, measured by the same process and
// load generators as the scenarios: SQLite alone, JSON alone, `ws` alone (bare relay).
import connections from '../scenarios/connections.mjs';
import fanout, { fanoutWide } from '../scenarios/fanout.mjs';
import tenants from '../scenarios/tenants.mjs';
import { measureScenario } from '../lib/harness.mjs';
import { measureJson } from './json.mjs';
import { measureSqlite } from './sqlite.mjs';
import { measureWsLoopback } from './ws-loopback.mjs';

/** Scenario loads replayed against the bare relay, and which of their metrics become limits. */
const RELAY_LOADS = [
  { scenario: fanout, keys: { p50Ms: 'relayP50Ms', p99Ms: 'relayP99Ms', cpuMsPerTxn: 'relayCpuMsPerTxn' } },
  {
    scenario: fanoutWide,
    keys: { p50Ms: 'relayWideP50Ms', p99Ms: 'relayWideP99Ms', cpuMsPerTxn: 'relayWideCpuMsPerTxn' },
  },
  {
    scenario: connections,
    keys: {
      kbPerConnection: 'relayKbPerConnection',
      marginalKbPerConnection: 'relayMarginalKbPerConnection',
      heapKbPerConnection: 'relayHeapKbPerConnection',
      handshakesPerSec: 'relayHandshakesPerSec',
      cpuSPer1000Handshakes: 'relayCpuSPer1000Handshakes',
    },
  },
  { scenario: tenants, variants: ['new'], keys: { newDatabasesPerSec: 'relayDatabasesPerSec' } },
];

/** Resolves to { values: {limitKey: number}, errors: string[] }; `log` reports progress. */
export async function measureLimits(options, shared, log) {
  const values = {};
  const errors = [];
  const attempt = async (what, fn) => {
    log(`limit: ${what}`);
    try {
      Object.assign(values, await fn());
    } catch (err) {
      errors.push(`${what}: ${err instanceof Error ? err.message : String(err)}`);
    }
  };
  await attempt('SQLite upserts and scan', () => measureSqlite(options.sizes));
  await attempt('JSON parse/stringify/decode', () => measureJson(options.sizes));
  await attempt('ws loopback messages', () => measureWsLoopback(options.sizes));
  for (const { scenario, variants, keys } of RELAY_LOADS) {
    if (!options.only.includes(scenario.name)) continue;
    await attempt(`bare ws relay, ${scenario.name} load`, async () => {
      // The relay stores nothing, so only the variants that need no stored data are replayed.
      const load = variants ? { ...scenario, variants } : scenario;
      const result = await measureScenario(load, options, shared, 'bare-relay');
      if (result.error) throw new Error(result.error);
      return Object.fromEntries(Object.entries(keys).map(([from, to]) => [to, result.metrics[from]]));
    });
  }
  return { values, errors };
}

/** How each limit reads in the report. */
export const LIMIT_LABELS = {
  sqliteUpsertsPerSec: {
    short: 'SQLite writes',
    label: "SQLite writes, one transaction, the engine's schema (one record per row)",
    unit: 'cells/s',
  },
  sqliteCommitsPerSec: {
    short: 'SQLite durable commits',
    label: 'SQLite durable commits (one record each, synchronous=FULL)',
    unit: 'commits/s',
  },
  sqliteScanPerSec: { short: 'SQLite scan', label: 'SQLite full scan in HLC order (catch-up shape)', unit: 'cells/s' },
  jsonParseMbPerSec: { short: 'JSON.parse', label: 'JSON.parse of apply_changes messages', unit: 'MB/s' },
  jsonParseCellsPerSec: { short: 'JSON.parse', label: 'JSON.parse of apply_changes messages', unit: 'cells/s' },
  jsonStringifyCellsPerSec: {
    short: 'JSON.stringify',
    label: 'JSON.stringify of the same change sets',
    unit: 'cells/s',
  },
  decodeCellsPerSec: { short: 'parse+decode', label: 'JSON.parse + core decodeChangeSet', unit: 'cells/s' },
  wsMessagesPerSec: { short: 'ws one-way', label: 'ws loopback, one way, small text messages', unit: 'msgs/s' },
  relayP50Ms: { short: 'bare ws relay p50', label: 'bare ws relay, fanout load, p50', unit: 'ms' },
  relayP99Ms: { short: 'bare ws relay p99', label: 'bare ws relay, fanout load, p99', unit: 'ms' },
  relayWideP50Ms: { short: 'bare ws relay p50', label: 'bare ws relay, fanout-wide load, p50', unit: 'ms' },
  relayWideP99Ms: { short: 'bare ws relay p99', label: 'bare ws relay, fanout-wide load, p99', unit: 'ms' },
  relayCpuMsPerTxn: { short: 'bare ws relay', label: 'bare ws relay, fanout load, CPU', unit: 'ms/txn' },
  relayWideCpuMsPerTxn: { short: 'bare ws relay', label: 'bare ws relay, fanout-wide load, CPU', unit: 'ms/txn' },
  relayKbPerConnection: { short: 'bare ws relay', label: 'bare ws relay, idle connections', unit: 'KB/conn' },
  relayMarginalKbPerConnection: {
    short: 'bare ws relay',
    label: 'bare ws relay, idle connections, RSS growth over the second half',
    unit: 'KB/conn',
  },
  relayHeapKbPerConnection: {
    short: 'bare ws relay',
    label: 'bare ws relay, idle connections, heap after GC',
    unit: 'KB/conn',
  },
  relayHandshakesPerSec: { short: 'bare ws relay', label: 'bare ws relay, handshakes', unit: 'handshakes/s' },
  relayCpuSPer1000Handshakes: {
    short: 'bare ws relay',
    label: 'bare ws relay, server CPU per 1,000 handshakes',
    unit: 'CPU-s',
  },
  relayDatabasesPerSec: {
    short: 'bare ws relay',
    label: 'bare ws relay, tenants load (no storage)',
    unit: 'databases/s',
  },
};
