// Runs one scenario several times, each against a freshly started server process, and measures
// the server from outside: CPU seconds (utime+stime) and peak RSS over the measured part only.
// Every run is bounded by a timeout; on timeout the server is stopped, which ends every socket and
// so every load loop still waiting on one.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { summarizeProfile } from './cpu-profile.mjs';
import { cpuSeconds, peakRssKb, resetPeak, RssSampler } from './proc-stats.mjs';
import { startBareRelay, startCoordinator } from './server.mjs';
import { median } from './stats.mjs';
import { WireClient } from './wire-client.mjs';

export const OUT_DIR = fileURLToPath(new URL('../.out/', import.meta.url));

// Temporary data dirs are removed when done, and on any exit (Ctrl-C included) as a backstop.
const liveTempDirs = new Set();
process.on('exit', () => liveTempDirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

export function tempDir(prefix) {
  const dir = mkdtempSync(path.join(tmpdir(), `syncord-bench-${prefix}-`));
  liveTempDirs.add(dir);
  return dir;
}

export function removeTempDir(dir) {
  rmSync(dir, { recursive: true, force: true });
  liveTempDirs.delete(dir);
}

function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms / 1000} s`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * The context a scenario run gets: the server, the sizes, and `open()` for sockets that are closed
 * for it when the run ends, whatever happened.
 */
function makeContext(server, options, shared, run) {
  const clients = new Set();
  const notes = [];
  return {
    server,
    sizes: options.sizes,
    options,
    shared,
    run,
    aborted: false,
    /** Scenario-owned state handed from prepare() to run(). */
    state: {},
    note: (text) => notes.push(text),
    notes,
    async open() {
      const client = await WireClient.open(server.wsUrl);
      clients.add(client);
      return client;
    },
    async closeAll() {
      await Promise.all([...clients].map((c) => c.close().catch(() => {})));
      clients.clear();
    },
  };
}

/**
 * One measured run. `target` is 'coordinator' or 'bare-relay'; the scenario may name a data dir
 * (a preloaded one) and an open-file limit through `scenario.serverOptions(options, shared)`.
 */
async function measureOnce(scenario, options, shared, run, target) {
  const serverOptions = scenario.serverOptions?.(options, shared) ?? {};
  const ownDataDir = target === 'coordinator' && !serverOptions.dataDir ? tempDir(scenario.name) : undefined;
  const profiling = target === 'coordinator' && options.profile === scenario.name && run === 0;
  const profileDir = profiling ? path.join(OUT_DIR, 'prof', `${scenario.name}-${Date.now()}`) : undefined;
  const server =
    target === 'coordinator'
      ? await startCoordinator({
          dataDir: serverOptions.dataDir ?? ownDataDir,
          fdLimit: serverOptions.fdLimit,
          cpuProfDir: profileDir,
        })
      : await startBareRelay({ fdLimit: serverOptions.fdLimit });
  const ctx = makeContext(server, options, shared, run);
  try {
    await scenario.prepare?.(ctx); // per-run, unmeasured (e.g. probing how the server pages)
    const pid = server.pid;
    const peakReset = resetPeak(pid);
    const cpu0 = cpuSeconds(pid);
    const sampler = new RssSampler(pid);
    let result;
    try {
      result = await withTimeout(scenario.run(ctx), options.sizes.timeoutS * 1000, `${scenario.name} run ${run + 1}`);
    } finally {
      ctx.aborted = true;
    }
    const cpuS = cpuSeconds(pid) - cpu0;
    const sampled = sampler.stop();
    const peakKb = peakReset ? Math.max(peakRssKb(pid), sampled) : sampled;
    return { metrics: result.metrics, notes: ctx.notes, cpuS, peakRssMb: peakKb / 1024 };
  } finally {
    ctx.aborted = true;
    await ctx.closeAll();
    await server.stop();
    if (ownDataDir) removeTempDir(ownDataDir);
    if (profileDir) printProfile(scenario.name, profileDir);
  }
}

function printProfile(name, dir) {
  let files = [];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
  } catch {
    // no directory: the server wrote no profile
  }
  if (files.length === 0) {
    console.error(`profile: the coordinator wrote no .cpuprofile into ${dir} (does it exit cleanly on SIGTERM?)`);
    return;
  }
  const file = path.join(dir, files[0]);
  console.error(`\nprofile of ${name}: ${file}\n${summarizeProfile(file, 25)}\n`);
}

/**
 * Runs `scenario` options.sizes.runs times. Returns { metrics (medians), cpuS, peakRssMb, notes,
 * runs, error? }; a failed run ends the scenario with `error` set and the runs done so far.
 */
export async function measureScenario(scenario, options, shared, target = 'coordinator') {
  const runs = [];
  let error;
  try {
    // Unmeasured preparation shared by the runs (e.g. a preloaded data dir).
    await scenario.setup?.(options, shared);
    for (let run = 0; run < options.sizes.runs; run++) {
      runs.push(await measureOnce(scenario, options, shared, run, target));
    }
  } catch (err) {
    error = err instanceof Error ? err.message : String(err);
  }
  const keys = new Set(runs.flatMap((r) => Object.keys(r.metrics)));
  const metrics = {};
  for (const key of keys) metrics[key] = median(runs.map((r) => r.metrics[key]));
  return {
    metrics,
    cpuS: median(runs.map((r) => r.cpuS)),
    peakRssMb: median(runs.map((r) => r.peakRssMb)),
    notes: [...new Set(runs.flatMap((r) => r.notes))],
    runs: runs.length,
    ...(error ? { error } : {}),
  };
}
