// The `syncord` CLI as a real child process: started from the sources on 127.0.0.1, port 0, with
// a temp data dir; its address is read from its own "Syncord ready" JSON log line. Used where a
// test must kill the whole process (SIGKILL) or check that it survives.
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type * as Esbuild from 'esbuild';

const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const CLI_MAIN = path.join(REPO_ROOT, 'packages/coordinator/src/cli/main.ts');
/**
 * The workspace packages resolve to their `dist` builds through node_modules, which may be stale
 * or missing; like vitest's aliases, the child runs the sources.
 */
const SOURCE_ALIASES: Readonly<Record<string, string>> = {
  '@syncord/core': path.join(REPO_ROOT, 'packages/core/src/index.ts'),
  '@syncord/core/sqlite': path.join(REPO_ROOT, 'packages/core/src/sqlite/index.ts'),
};

/**
 * Fallback without esbuild: tsx loads the TypeScript, and a resolve hook (a data: URL, so it needs
 * no file) maps the package names to the sources.
 */
function tsxEntry(): string[] {
  const aliases = Object.fromEntries(Object.entries(SOURCE_ALIASES).map(([k, v]) => [k, pathToFileURL(v).href]));
  const hooks =
    `const aliases = ${JSON.stringify(aliases)};\n` +
    'export async function resolve(specifier, context, next) { return next(aliases[specifier] ?? specifier, context); }';
  const register =
    "import { register } from 'node:module';\n" +
    `register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(hooks)}`)});`;
  return ['--import', 'tsx', '--import', `data:text/javascript,${encodeURIComponent(register)}`, CLI_MAIN];
}

/**
 * The sources bundled once per test process with esbuild (tsx's own compiler): a restart then
 * costs about half the CPU of tsx, which dominates a test that restarts the server 20 times.
 * Dependencies stay external, imported by absolute path; the bundle sits two levels below a copy
 * of the package.json and its assets, as dist/cli/main.js does (the CLI reads its version there).
 */
async function bundleEntry(): Promise<string[] | undefined> {
  let esbuild: typeof Esbuild;
  try {
    esbuild = await import('esbuild');
  } catch {
    return undefined;
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'syncord-cli-'));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  copyFileSync(path.join(REPO_ROOT, 'packages/coordinator/package.json'), path.join(dir, 'package.json'));
  // Files the server reads beside its code (the admin page), where the package keeps them.
  cpSync(path.join(REPO_ROOT, 'packages/coordinator/assets'), path.join(dir, 'assets'), { recursive: true });
  mkdirSync(path.join(dir, 'dist/cli'), { recursive: true });
  const outfile = path.join(dir, 'dist/cli/main.mjs');
  await esbuild.build({
    entryPoints: [CLI_MAIN],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    logLevel: 'silent',
    alias: { ...SOURCE_ALIASES },
    plugins: [
      {
        name: 'absolute-externals',
        setup(build) {
          build.onResolve({ filter: /^[^./]/ }, async (args) => {
            if (args.path.startsWith('node:') || args.path.startsWith('@syncord/') || args.pluginData === 'inner') {
              return undefined;
            }
            const found = await build.resolve(args.path, {
              kind: args.kind,
              resolveDir: args.resolveDir,
              pluginData: 'inner',
            });
            return found.errors.length > 0 ? { errors: found.errors } : { path: found.path, external: true };
          });
        },
      },
    ],
  });
  return [outfile];
}

let entry: Promise<string[]> | undefined;
/** Node arguments that start the CLI: the bundle, or tsx when esbuild is not installed. */
function cliEntry(): Promise<string[]> {
  entry ??= bundleEntry().then((bundled) => bundled ?? tsxEntry());
  return entry;
}

export interface ChildExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface ChildServerOptions {
  /** Reused when given (a restart on the same data); a fresh temp dir otherwise, removed by cleanup(). */
  readonly dataDir?: string;
  /** Extra CLI flags, e.g. ['--batch-size', '100000']. */
  readonly args?: readonly string[];
  /** Bound on the wait for the listening line (default 30 s). */
  readonly startTimeoutMs?: number;
}

export interface ChildServer {
  readonly pid: number;
  readonly port: number;
  readonly dataDir: string;
  /** ws://127.0.0.1:<port>/sync/ws */
  readonly ws: string;
  /** http://127.0.0.1:<port>/sync */
  readonly http: string;
  /** Settles when the process has exited, however. */
  readonly exited: Promise<ChildExit>;
  /** True until the process has exited. */
  readonly alive: boolean;
  /** The last ~64 KiB of stdout and stderr, for failure messages. */
  output(): string;
  /** Sends `signal` (default SIGKILL) and waits for the exit. */
  kill(signal?: NodeJS.Signals): Promise<ChildExit>;
  /** SIGTERM (graceful stop), then SIGKILL if it has not exited within `graceMs` (default 10 s). */
  stop(graceMs?: number): Promise<ChildExit>;
  /** Removes the data dir if this helper created it (call after the process is gone). */
  cleanup(): void;
}

const OUTPUT_KEEP = 64 * 1024;
const live = new Set<ChildProcessByStdio<null, Readable, Readable>>();
let exitHookInstalled = false;

/** A test that fails or times out must not leave servers behind. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const child of live) child.kill('SIGKILL');
  });
}

interface ListeningLine {
  readonly msg?: unknown;
  readonly port?: unknown;
  readonly basePath?: unknown;
}

export async function startChildServer(options: ChildServerOptions = {}): Promise<ChildServer> {
  installExitHook();
  const entryArgs = await cliEntry();
  const ownDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? mkdtempSync(path.join(tmpdir(), 'syncord-child-'));
  const args = [
    ...entryArgs,
    '--host',
    '127.0.0.1',
    '--port',
    '0',
    '--data-dir',
    dataDir,
    // The address comes from the "Syncord ready" banner, logged at info.
    '--log-level',
    'info',
    ...(options.args ?? []),
  ];
  const child = spawn(process.execPath, args, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  let output = '';
  const keep = (text: string) => {
    output = (output + text).slice(-OUTPUT_KEEP);
  };
  let exitInfo: ChildExit | undefined;
  const exited = new Promise<ChildExit>((resolve) =>
    child.once('exit', (code, signal) => {
      live.delete(child);
      exitInfo = { code, signal };
      resolve(exitInfo);
    }),
  );
  child.stderr.setEncoding('utf8').on('data', keep);

  const listening = new Promise<{ port: number; basePath: string }>((resolve, reject) => {
    let pending = '';
    let found = false;
    child.stdout.setEncoding('utf8').on('data', (text: string) => {
      keep(text);
      if (found) return;
      pending += text;
      let newline: number;
      while ((newline = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, newline);
        pending = pending.slice(newline + 1);
        if (!line.includes('Syncord ready')) continue;
        let parsed: ListeningLine;
        try {
          parsed = JSON.parse(line) as ListeningLine;
        } catch {
          continue;
        }
        if (typeof parsed.port === 'number' && typeof parsed.basePath === 'string') {
          found = true;
          pending = '';
          resolve({ port: parsed.port, basePath: parsed.basePath });
          return;
        }
      }
    });
    void exited.then((exit) =>
      reject(new Error(`syncord exited before listening (${JSON.stringify(exit)}):\n${output}`)),
    );
  });
  const timeoutMs = options.startTimeoutMs ?? 30_000;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`syncord did not listen within ${timeoutMs} ms:\n${output}`)), timeoutMs);
  });

  async function kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<ChildExit> {
    if (exitInfo) return exitInfo;
    child.kill(signal);
    return exited;
  }

  let address: { port: number; basePath: string };
  try {
    address = await Promise.race([listening, timeout]);
  } catch (err) {
    await kill('SIGKILL');
    if (ownDir) rmSync(dataDir, { recursive: true, force: true });
    throw err;
  } finally {
    clearTimeout(timer);
  }

  const { port, basePath } = address;
  return {
    pid: child.pid ?? -1,
    port,
    dataDir,
    ws: `ws://127.0.0.1:${port}${basePath}/ws`,
    http: `http://127.0.0.1:${port}${basePath}`,
    exited,
    get alive() {
      return exitInfo === undefined;
    },
    output: () => output,
    kill,
    async stop(graceMs = 10_000) {
      if (exitInfo) return exitInfo;
      child.kill('SIGTERM');
      let graceTimer: ReturnType<typeof setTimeout> | undefined;
      const forced = new Promise<ChildExit>((resolve) => {
        graceTimer = setTimeout(() => resolve(kill('SIGKILL')), graceMs);
      });
      const exit = await Promise.race([exited, forced]);
      clearTimeout(graceTimer);
      return exit;
    },
    cleanup() {
      if (ownDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
