// The apply path in one process, stage by stage, without sockets: the suite's apply messages
// (bench/lib/change-sets.mjs) go frame bytes → text → parseMessage → decodeApplyChanges, then
// `--in-flight` of them at a time into Replica.applyGroup on a fresh SQLite file (WAL,
// synchronous=FULL), with the apply_result each would be answered with encoded. Prints CPU
// seconds per 10,000 cells for decoding and for merging + committing, the median of `--runs`
// runs, each in a fresh child process so every run starts as cold as a new server does.
//   npx tsc -b packages/core && node bench/apply-stages.mjs [--rows 50000] [--in-flight 4] [--runs 3]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { decodeApplyChanges, encodeServerMessage, parseMessage } from '../packages/core/dist/index.js';
import { openSqliteReplica } from '../packages/core/dist/sqlite/index.js';
import { insertMessages, Writer } from './lib/change-sets.mjs';
import { median } from './lib/stats.mjs';

const { values: args } = parseArgs({
  options: {
    rows: { type: 'string', default: '50000' },
    'in-flight': { type: 'string', default: '4' },
    runs: { type: 'string', default: '3' },
    child: { type: 'boolean', default: false },
  },
});
const ROWS = Number(args.rows);
const IN_FLIGHT = Number(args['in-flight']);

const cpuS = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

/** One run in this process: { decode, apply } CPU seconds per 10,000 cells. */
function oneRun() {
  const frames = insertMessages(new Writer(), { rows: ROWS, rowsPerTxn: 100, columns: 3 }).map((m) =>
    Buffer.from(m.text),
  );
  const dir = mkdtempSync(path.join(tmpdir(), 'syncord-apply-stages-'));
  const replica = openSqliteReplica(path.join(dir, 'db.sqlite'));
  let decodeS = 0;
  let applyS = 0;
  let cells = 0;
  try {
    for (let i = 0; i < frames.length; i += IN_FLIGHT) {
      const t0 = cpuS();
      const group = frames.slice(i, i + IN_FLIGHT).map((frame) => {
        const { changeSets } = decodeApplyChanges(parseMessage(frame.toString('utf8')).raw);
        for (const cs of changeSets) cells += cs.changes.length;
        // As the coordinator asks: with the applied sets, to broadcast them.
        return () => ({ changeSets, options: { onApplied: () => {} } });
      });
      const t1 = cpuS();
      for (const result of replica.applyGroup(group)) {
        if (result instanceof Error) throw result;
        encodeServerMessage({ type: 'apply_result', requestId: `r${i}`, ...result });
      }
      decodeS += t1 - t0;
      applyS += cpuS() - t1;
    }
  } finally {
    replica.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return { decode: (decodeS / cells) * 1e4, apply: (applyS / cells) * 1e4 };
}

if (args.child) {
  console.log(JSON.stringify(oneRun()));
} else {
  const me = fileURLToPath(import.meta.url);
  const childArgs = [me, '--child', '--rows', String(ROWS), '--in-flight', String(IN_FLIGHT)];
  const runs = Array.from({ length: Number(args.runs) }, () =>
    JSON.parse(execFileSync(process.execPath, childArgs, { encoding: 'utf8' })),
  );
  const decode = median(runs.map((r) => r.decode));
  const apply = median(runs.map((r) => r.apply));
  const f = (v) => v.toFixed(4);
  console.log(
    `${(ROWS * 3).toLocaleString('en-US')} cells, ${IN_FLIGHT} per group, median of ${runs.length} runs (CPU-s per 10,000 cells):`,
  );
  console.log(`  decode (text, parse, decode)  ${f(decode)}`);
  console.log(`  merge + commit + result       ${f(apply)}`);
  console.log(`  total                         ${f(decode + apply)}`);
}
