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
function makeContext(server, options, shared, run, variant) {
  const clients = new Set();
  const endings = [];
  const notes = [];
  return {
    server,
    sizes: options.sizes,
    options,
    shared,
    run,
    variant,
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
    /** `fn` runs when the run ends, however it ends (e.g. to stop the scenario's worker threads). */
    onEnd(fn) {
      endings.push(fn);
    },
    async closeAll() {
      await Promise.all([...clients].map((c) => c.close().catch(() => {})));
      clients.clear();
      await Promise.all(endings.splice(0).map((fn) => Promise.resolve(fn()).catch(() => {})));
    },
  };
}

/**
 * One measured run. `target` is 'coordinator' or 'bare-relay'; the scenario may name a data dir
 * (a preloaded one), an open-file limit, server environment and the heap probe (`heapProbe`, see
 * heap-probe.cjs) through `scenario.serverOptions(options, shared, variant)`.
 */
async function measureOnce(scenario, options, shared, run, target, variant) {
  const serverOptions = scenario.serverOptions?.(options, shared, variant) ?? {};
  const ownDataDir = target === 'coordinator' && !serverOptions.dataDir ? tempDir(scenario.name) : undefined;
  const profiling =
    target === 'coordinator' && options.profile === scenario.name && run === 0 && variant === scenario.variants?.[0];
  const profileDir = profiling ? path.join(OUT_DIR, 'prof', `${scenario.name}-${Date.now()}`) : undefined;
  const server =
    target === 'coordinator'
      ? await startCoordinator({
          dataDir: serverOptions.dataDir ?? ownDataDir,
          env: { ...serverOptions.env, ...options.serverEnv }, // --server-env has the last word
          fdLimit: serverOptions.fdLimit,
          cpuProfDir: profileDir,
          heapProbe: serverOptions.heapProbe,
        })
      : await startBareRelay({ fdLimit: serverOptions.fdLimit, heapProbe: serverOptions.heapProbe });
  const ctx = makeContext(server, options, shared, run, variant);
  let sampler;
  try {
    await scenario.prepare?.(ctx); // per-run, unmeasured (e.g. probing how the server pages)
    const pid = server.pid;
    const peakReset = resetPeak(pid);
    const cpu0 = cpuSeconds(pid);
    const load0 = process.cpuUsage();
    sampler = new RssSampler(pid);
    let result;
    const started = Date.now();
    try {
      result = await withTimeout(scenario.run(ctx), options.sizes.timeoutS * 1000, `${scenario.name} run ${run + 1}`);
    } finally {
      ctx.aborted = true;
    }
    const wallS = (Date.now() - started) / 1000;
    const cpuS = cpuSeconds(pid) - cpu0;
    const load = process.cpuUsage(load0);
    const sampled = sampler.stop();
    const peakKb = peakReset ? Math.max(peakRssKb(pid), sampled) : sampled;
    // The load generator's own CPU (this process, not its workers): near the run's wall time, it
    // and not the server may be what bounds the figure.
    const loadCpuS = (load.user + load.system) / 1e6;
    return { metrics: result.metrics, notes: ctx.notes, cpuS, loadCpuS, wallS, peakRssMb: peakKb / 1024 };
  } finally {
    ctx.aborted = true;
    sampler?.stop();
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
      // Variants (e.g. snapshot over WS, then over HTTP) each get their own fresh server, so one
      // cannot leave the heap grown or the code warm for the next; their figures form one run.
      const parts = [];
      for (const variant of scenario.variants ?? [undefined]) {
        parts.push(await measureOnce(scenario, options, shared, run, target, variant));
      }
      runs.push({
        metrics: Object.assign({}, ...parts.map((p) => p.metrics)),
        notes: parts.flatMap((p) => p.notes),
        cpuS: parts.reduce((sum, p) => sum + p.cpuS, 0),
        loadCpuS: parts.reduce((sum, p) => sum + p.loadCpuS, 0),
        wallS: parts.reduce((sum, p) => sum + p.wallS, 0),
        peakRssMb: Math.max(...parts.map((p) => p.peakRssMb)),
      });
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
    loadCpuS: median(runs.map((r) => r.loadCpuS)),
    wallS: median(runs.map((r) => r.wallS)),
    peakRssMb: median(runs.map((r) => r.peakRssMb)),
    notes: [...new Set(runs.flatMap((r) => r.notes))],
    runs: runs.length,
    ...(error ? { error } : {}),
  };
}
