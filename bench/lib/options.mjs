// Command-line flags of `npm run bench`. Every size is a flag so a slow or small machine can scale
// a scenario down without editing code; --quick swaps in sizes that finish in well under a minute.
import { parseArgs } from 'node:util';

const SCENARIOS = [
  'apply',
  'fanout',
  'fanout-wide',
  'catch-up',
  'snapshot',
  'connections',
  'tenants',
  's3-restore',
  'large',
];
/** Run only when named in --only: building their data takes minutes (once; it is cached). */
const OPT_IN = new Set(['large']);

/** Full sizes: the figures issue 7 sets targets for. */
const FULL = {
  runs: 3,
  timeoutS: 240,
  applyRows: 50_000,
  rowsPerTxn: 100,
  columns: 3,
  inFlight: 4,
  fanoutSubscribers: 100,
  fanoutTxns: 500,
  fanoutRate: 200,
  fanoutWorkers: 2,
  wideSubscribers: 1_000,
  wideTxns: 250,
  wideRate: 50,
  catchupCells: 150_000,
  snapshotCells: 150_000,
  connections: 10_000,
  connectionDbs: 20,
  connectConcurrency: 256,
  connectWorkers: 4,
  tenants: 2_000,
  tenantConcurrency: 16,
  limitCells: 150_000,
  wsMessages: 200_000,
  largeCells: 10_000_000,
};

const QUICK = {
  ...FULL,
  runs: 1,
  timeoutS: 45,
  applyRows: 10_000,
  fanoutSubscribers: 20,
  fanoutTxns: 100,
  wideSubscribers: 200,
  wideTxns: 100,
  catchupCells: 30_000,
  snapshotCells: 30_000,
  connections: 1_000,
  tenants: 300,
  limitCells: 30_000,
  wsMessages: 30_000,
  largeCells: 1_000_000,
};

const FLAG_TO_KEY = {
  runs: 'runs',
  'timeout-s': 'timeoutS',
  'apply-rows': 'applyRows',
  'rows-per-txn': 'rowsPerTxn',
  columns: 'columns',
  'in-flight': 'inFlight',
  'fanout-subscribers': 'fanoutSubscribers',
  'fanout-txns': 'fanoutTxns',
  'fanout-rate': 'fanoutRate',
  'fanout-workers': 'fanoutWorkers',
  'wide-subscribers': 'wideSubscribers',
  'wide-txns': 'wideTxns',
  'wide-rate': 'wideRate',
  'catchup-cells': 'catchupCells',
  'snapshot-cells': 'snapshotCells',
  connections: 'connections',
  'connection-dbs': 'connectionDbs',
  'connect-concurrency': 'connectConcurrency',
  'connect-workers': 'connectWorkers',
  tenants: 'tenants',
  'tenant-concurrency': 'tenantConcurrency',
  'limit-cells': 'limitCells',
  'ws-messages': 'wsMessages',
  'large-cells': 'largeCells',
};

const HELP = `Usage: npm run bench -- [--quick] [flags]

Starts the coordinator CLI (packages/coordinator/dist/cli/main.js) on 127.0.0.1 with a temporary
data dir, drives it over real sockets with the v1 wire, prints a Markdown table.

  --quick                 small sizes, 1 run (under a minute)
  --only <list>           scenarios to run, comma separated: ${SCENARIOS.join(',')}
                          (${[...OPT_IN].join(', ')} only when named: it builds a large database
                          once, cached in bench/.out/preload/)
  --no-limits             skip the physical-limit measurements
  --profile <scenario>    run the coordinator of that scenario under node --cpu-prof and print
                          its hottest functions (profiles kept in bench/.out/prof/)
  --catchup-mode <m>      auto (default: one get_changes when the server streams pages with
                          "more", else one connection if the server answers a second
                          get_changes, else a fresh handshake per round), stream, same, fresh
  --out <file>            also write the Markdown report to this file
  --server-env <K=V>      extra environment for the coordinator, repeatable
                          (e.g. --server-env SYNC_BATCH_SIZE=5000)
${Object.keys(FLAG_TO_KEY)
  .map((f) => `  --${f} <n>`.padEnd(29) + ` default ${FULL[FLAG_TO_KEY[f]]} (quick ${QUICK[FLAG_TO_KEY[f]]})`)
  .join('\n')}
`;

function positiveInt(flag, text) {
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n <= 0) throw new Error(`--${flag} must be a positive integer, got ${text}`);
  return n;
}

/** Parses argv into { sizes, only, limits, profile, catchupMode, out, quick, serverEnv }; throws on bad flags. */
export function parseOptions(argv) {
  const options = {
    quick: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
    only: { type: 'string' },
    'no-limits': { type: 'boolean', default: false },
    profile: { type: 'string' },
    'catchup-mode': { type: 'string', default: 'auto' },
    out: { type: 'string' },
    'server-env': { type: 'string', multiple: true, default: [] },
  };
  for (const flag of Object.keys(FLAG_TO_KEY)) options[flag] = { type: 'string' };
  const { values } = parseArgs({ args: argv, options, strict: true, allowPositionals: false });
  if (values.help) return { help: HELP };

  const sizes = { ...(values.quick ? QUICK : FULL) };
  for (const [flag, key] of Object.entries(FLAG_TO_KEY)) {
    if (values[flag] !== undefined) sizes[key] = positiveInt(flag, values[flag]);
  }
  const only = values.only ? values.only.split(',').map((s) => s.trim()) : SCENARIOS.filter((s) => !OPT_IN.has(s));
  for (const name of only) {
    if (!SCENARIOS.includes(name)) throw new Error(`--only: unknown scenario ${name} (know ${SCENARIOS.join(', ')})`);
  }
  if (values.profile !== undefined && !SCENARIOS.includes(values.profile)) {
    throw new Error(`--profile: unknown scenario ${values.profile}`);
  }
  if (!['auto', 'stream', 'fresh', 'same'].includes(values['catchup-mode'])) {
    throw new Error(`--catchup-mode must be auto, stream, fresh or same, got ${values['catchup-mode']}`);
  }
  const serverEnv = {};
  for (const pair of values['server-env']) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new Error(`--server-env wants KEY=VALUE, got ${pair}`);
    serverEnv[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return {
    quick: values.quick,
    serverEnv,
    sizes,
    only,
    limits: !values['no-limits'],
    profile: values.profile,
    catchupMode: values['catchup-mode'],
    out: values.out,
  };
}
