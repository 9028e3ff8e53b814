#!/usr/bin/env node
// `npm run bench [-- --quick] [flags]`: the benchmark suite of issue 7. Progress goes to stderr,
// the Markdown report to stdout (and to bench/.out/suite-latest.md and .json).
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { measureScenario, OUT_DIR } from './lib/harness.mjs';
import { parseOptions } from './lib/options.mjs';
import { renderReport } from './lib/report.mjs';
import { measureLimits } from './limits/index.mjs';
import apply from './scenarios/apply.mjs';
import catchUp from './scenarios/catch-up.mjs';
import connections from './scenarios/connections.mjs';
import fanout, { fanoutWide } from './scenarios/fanout.mjs';
import large from './scenarios/large.mjs';
import snapshot from './scenarios/snapshot.mjs';
import tenants from './scenarios/tenants.mjs';

const S3_RESTORE = { name: 's3-restore', describe: () => '1,000,000 cells', rows: [] };
const SCENARIOS = [apply, fanout, fanoutWide, catchUp, snapshot, connections, tenants, S3_RESTORE, large];

const log = (text) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${text}\n`);

async function main() {
  let options;
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (err) {
    console.error(err instanceof Error ? err.message : err);
    return 2;
  }
  if (options.help) {
    console.log(options.help);
    return 0;
  }
  const startedAt = new Date();
  const shared = { cleanups: [] };
  const results = [];
  let limits = { values: {}, errors: [] };
  try {
    if (options.limits) limits = await measureLimits(options, shared, log);
    for (const scenario of SCENARIOS.filter((s) => options.only.includes(s.name))) {
      if (scenario === S3_RESTORE) {
        log('s3-restore: measured separately by bench/s3-durability.mjs (it needs s3rver), see BENCHMARKS.md "S3"');
        results.push({ scenario, result: { metrics: {}, notes: [], runs: 0 } });
        continue;
      }
      log(`${scenario.name}: ${scenario.describe(options.sizes)}, ${options.sizes.runs} run(s)`);
      const result = await measureScenario(scenario, options, shared);
      log(`${scenario.name}: ${result.error ? `FAILED: ${result.error}` : JSON.stringify(result.metrics)}`);
      results.push({ scenario, result });
    }
  } finally {
    for (const cleanup of shared.cleanups) cleanup();
  }

  const command = `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`;
  const elapsedS = (Date.now() - startedAt.getTime()) / 1000;
  const report = renderReport({ command, options, results, limits, startedAt, elapsedS });
  console.log(report);
  mkdirSync(OUT_DIR, { recursive: true });
  writeFileSync(path.join(OUT_DIR, 'suite-latest.md'), `${report}\n`);
  writeFileSync(
    path.join(OUT_DIR, 'suite-latest.json'),
    JSON.stringify(
      {
        startedAt,
        command,
        sizes: options.sizes,
        limits,
        results: results.map((r) => ({ name: r.scenario.name, ...r.result })),
      },
      null,
      2,
    ),
  );
  if (options.out) writeFileSync(options.out, `${report}\n`);
  return results.some((r) => r.result.error) || limits.errors.length > 0 ? 1 : 0;
}

process.on('SIGINT', () => process.exit(130));
process.exitCode = await main();
// Everything is stopped by now; if some handle still lingers, do not hang the terminal on it.
setTimeout(() => process.exit(), 2_000).unref();
