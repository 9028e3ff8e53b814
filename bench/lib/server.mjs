// Starts a server as its own Node process on 127.0.0.1 and a free port, waits until it answers
// GET <basePath>/status, and stops it. The coordinator runs from the project's own CLI, exactly as
// an operator would start it; the bare ws relay (bench/limits/) is started the same way.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { openFileLimit } from './proc-stats.mjs';

export const COORDINATOR_CLI = fileURLToPath(new URL('../../packages/coordinator/dist/cli/main.js', import.meta.url));
const BASE_PATH = '/sync';
const READY_TIMEOUT_MS = 20_000;
const STOP_TIMEOUT_MS = 15_000;
const HEAP_PROBE = fileURLToPath(new URL('./heap-probe.cjs', import.meta.url));
const HEAP_PROBE_PREFIX = 'bench-heap-probe ';
const HEAP_PROBE_TIMEOUT_MS = 10_000;

/** A port nobody listens on right now (the OS picks it; the race until the server binds is benign). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

function statusOk(port) {
  return new Promise((resolve) => {
    // No keep-alive agent: an idle pooled connection would only delay the server's stop.
    const req = http.get(
      { host: '127.0.0.1', port, path: `${BASE_PATH}/status`, timeout: 1000, agent: false },
      (res) => {
        res.resume();
        resolve(res.statusCode === 200);
      },
    );
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
  });
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Spawns `node [nodeArgs] script [args(port)]` and resolves once it is ready.
 * `fdLimit` raises the child's open-file soft limit through `ulimit -n` (exec keeps the pid);
 * `heapProbe` preloads heap-probe.cjs, which `server.heap()` then asks.
 */
async function startNodeServer({ name, script, args, nodeArgs = [], env = {}, fdLimit, heapProbe = false }) {
  const port = await freePort();
  const probeArgs = heapProbe ? ['--expose-gc', '--require', HEAP_PROBE] : [];
  const argv = [...probeArgs, ...nodeArgs, script, ...args(port)];
  const childEnv = { ...process.env, ...env };
  const raise = fdLimit !== undefined && fdLimit > openFileLimit().soft;
  const child = raise
    ? spawn('sh', ['-c', `ulimit -n ${fdLimit} && exec "$0" "$@"`, process.execPath, ...argv], { env: childEnv })
    : spawn(process.execPath, argv, { env: childEnv });
  child.stdin?.end();

  // Keep the tail of the output for error messages, and keep reading so the child never blocks.
  const tail = [];
  const keep = (chunk) => {
    tail.push(...chunk.toString().split('\n').filter(Boolean));
    if (tail.length > 40) tail.splice(0, tail.length - 40);
  };
  child.stdout.on('data', keep);
  const probeReplies = [];
  let partial = '';
  child.stderr.on('data', (chunk) => {
    const lines = (partial + chunk.toString()).split('\n');
    partial = lines.pop();
    const other = [];
    for (const line of lines) {
      if (line.startsWith(HEAP_PROBE_PREFIX)) probeReplies.shift()?.(JSON.parse(line.slice(HEAP_PROBE_PREFIX.length)));
      else if (line) other.push(line);
    }
    if (other.length > 0) keep(other.join('\n'));
  });
  let exit;
  const exited = new Promise((resolve) => {
    child.once('exit', (code, signal) => {
      exit = { code, signal };
      resolve(exit);
    });
  });

  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (!(await statusOk(port))) {
    if (exit || Date.now() > deadline) {
      if (!exit) child.kill('SIGKILL');
      const why = exit ? `exited (${exit.code ?? exit.signal})` : `did not answer within ${READY_TIMEOUT_MS} ms`;
      throw new Error(`${name} ${why}; last output:\n${tail.join('\n')}`);
    }
    await sleep(50);
  }

  return {
    name,
    pid: child.pid,
    port,
    httpBase: `http://127.0.0.1:${port}${BASE_PATH}`,
    wsUrl: `ws://127.0.0.1:${port}${BASE_PATH}/ws`,
    outputTail: () => tail.join('\n'),
    /** process.memoryUsage() after a full GC (bytes); only for a server started with heapProbe. */
    heap() {
      if (!heapProbe) return Promise.reject(new Error(`${name} was started without the heap probe`));
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          const at = probeReplies.indexOf(done);
          if (at >= 0) probeReplies.splice(at, 1);
          reject(new Error(`${name} did not answer the heap probe within ${HEAP_PROBE_TIMEOUT_MS} ms`));
        }, HEAP_PROBE_TIMEOUT_MS);
        const done = (usage) => {
          clearTimeout(timer);
          resolve(usage);
        };
        probeReplies.push(done);
        child.kill('SIGUSR2');
      });
    },
    /** SIGTERM (a graceful stop, which also writes a --cpu-prof profile), SIGKILL if it hangs. */
    async stop() {
      if (exit) return exit;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      const result = await exited;
      clearTimeout(timer);
      return result;
    },
  };
}

/** The coordinator from its CLI on `dataDir`; `cpuProfDir` turns on node --cpu-prof. */
export function startCoordinator({ dataDir, env = {}, fdLimit, cpuProfDir, heapProbe }) {
  if (!existsSync(COORDINATOR_CLI)) {
    throw new Error(`${COORDINATOR_CLI} is missing: run \`npm run build\` first`);
  }
  return startNodeServer({
    name: 'coordinator',
    script: COORDINATOR_CLI,
    args: (port) => ['--host', '127.0.0.1', '--port', String(port), '--data-dir', dataDir],
    nodeArgs: cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfDir}`] : [],
    env: { SYNC_LOG_LEVEL: 'warn', ...env },
    fdLimit,
    heapProbe,
  });
}

/** The bare `ws` relay that gives the physical limits (bench/limits/bare-relay-server.mjs). */
export function startBareRelay({ fdLimit, heapProbe } = {}) {
  return startNodeServer({
    name: 'bare ws relay',
    script: fileURLToPath(new URL('../limits/bare-relay-server.mjs', import.meta.url)),
    args: (port) => [String(port)],
    fdLimit,
    heapProbe,
  });
}
