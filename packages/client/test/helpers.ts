// Real parts for the client's end-to-end tests: a coordinator on 127.0.0.1 port 0 (in-process or
// the CLI as a child process), temp directories, a TCP proxy that can cut connections, and a
// bounded wait. Nothing here imitates our own code.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  createCoordinatorServer,
  DEFAULT_CONFIG,
  type CoordinatorConfig,
  type CoordinatorHooks,
  type CoordinatorServer,
} from '@syncord/coordinator';

export function tempDir(prefix = 'syncord-client-'): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

export interface Coordinator {
  readonly url: string;
  readonly port: number;
  readonly server: CoordinatorServer;
  stop(): Promise<void>;
}

export interface CoordinatorSettings {
  readonly dataDir: string;
  readonly sync?: Partial<CoordinatorConfig['sync']>;
  readonly limits?: Partial<CoordinatorConfig['limits']>;
  readonly hooks?: CoordinatorHooks;
  readonly port?: number;
  readonly auth?: CoordinatorConfig['auth'];
}

export function coordinatorConfig(settings: CoordinatorSettings): CoordinatorConfig {
  return {
    ...DEFAULT_CONFIG,
    host: '127.0.0.1',
    port: settings.port ?? 0,
    dataDir: settings.dataDir,
    sync: { ...DEFAULT_CONFIG.sync, ...settings.sync },
    limits: { ...DEFAULT_CONFIG.limits, ...settings.limits },
    ...(settings.auth ? { auth: settings.auth } : {}),
    logging: { ...DEFAULT_CONFIG.logging, level: 'silent' },
  };
}

export async function startCoordinator(settings: CoordinatorSettings): Promise<Coordinator> {
  const server = createCoordinatorServer({
    config: coordinatorConfig(settings),
    ...(settings.hooks ? { hooks: settings.hooks } : {}),
    shutdownGraceMs: 1000,
    ...(process.env['SYNCORD_TEST_LOG'] ? { logger: (await import('pino')).pino({ level: 'debug' }) } : {}),
  });
  const { port } = await server.start();
  return { url: `ws://127.0.0.1:${port}/sync/ws`, port, server, stop: () => server.stop() };
}

// Not `new URL(path, import.meta.url)`: in a DOM test environment (the React bindings' tests use
// these helpers) Vite rewrites that pattern against the page's location.
const CLI = join(dirname(fileURLToPath(import.meta.url)), '../../coordinator/dist/cli/main.js');

/** The `syncord` command as a child process; resolves once it accepts connections. */
/**
 * Starts the syncord CLI and resolves once it logs that it is ready. Start-up is CPU work (about
 * 0.6 s of module loading alone); beside other test files on two cores it has been seen to take
 * several seconds, so the bound is the one child-server.ts uses, and an early exit fails at once.
 */
export async function startCli(dataDir: string, port: number, env: Record<string, string> = {}): Promise<ChildProcess> {
  const child = spawn(process.execPath, [CLI, '--host', '127.0.0.1', '--port', String(port), '--data-dir', dataDir], {
    env: { ...process.env, SYNC_LOG_LEVEL: 'info', SYNC_LOG_FORMAT: 'json', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  let stdout = '';
  let ready = false;
  child.stdout?.on('data', (d: Buffer) => {
    stdout = (stdout + d.toString()).slice(-4096);
    if (stdout.includes('Syncord ready')) ready = true;
  });
  await waitFor(
    () => {
      if (child.exitCode !== null) throw new Error(`syncord exited with ${child.exitCode}: ${stderr}`);
      return ready;
    },
    { timeoutMs: 30_000, what: 'the syncord CLI to log that it is ready' },
  );
  return child;
}

export async function stopCli(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

/** A free TCP port on 127.0.0.1 (for a server that must come back on the same port). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** Polls `cond` until it holds; fails with `what` after `timeoutMs`. */
export async function waitFor(
  cond: () => boolean | Promise<boolean>,
  {
    timeoutMs = 5000,
    intervalMs = 10,
    what = 'condition',
  }: { timeoutMs?: number; intervalMs?: number; what?: string } = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Rejects after `ms` so a hung promise fails the test instead of the suite. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`Timed out after ${ms} ms: ${what}`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** A TCP relay to a target port whose connections can be cut, simulating a dropped network. */
export class CuttableProxy {
  private readonly server: net.Server;
  private readonly pairs = new Set<[net.Socket, net.Socket]>();
  port = 0;

  constructor(private readonly targetPort: number) {
    this.server = net.createServer((client) => {
      const upstream = net.connect(this.targetPort, '127.0.0.1');
      const pair: [net.Socket, net.Socket] = [client, upstream];
      this.pairs.add(pair);
      const drop = (): void => {
        client.destroy();
        upstream.destroy();
        this.pairs.delete(pair);
      };
      client.on('error', drop).on('close', drop);
      upstream.on('error', drop).on('close', drop);
      client.pipe(upstream);
      let tail = '';
      upstream.on('data', (data: Buffer) => {
        const marker = this.cutMarker;
        if (marker !== undefined) {
          // Server frames are not masked, so the JSON text is visible on the wire.
          const text = tail + data.toString('latin1');
          tail = text.slice(-marker.length);
          if (text.includes(marker)) {
            // Forward this piece, then drop the line before anything else gets through.
            this.cutMarker = undefined;
            upstream.pause();
            client.write(data, () => drop());
            return;
          }
        }
        client.write(data);
      });
    });
  }

  private cutMarker: string | undefined;

  /** Cuts the connection right after the server sends text containing `marker` (once). */
  cutWhenServerSends(marker: string): void {
    this.cutMarker = marker;
  }

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as net.AddressInfo).port;
    return `ws://127.0.0.1:${this.port}/sync/ws`;
  }

  /** Stops forwarding on every open connection without closing it: a network that died silently. */
  freezeAll(): void {
    for (const [a, b] of this.pairs) {
      a.pause();
      b.pause();
      a.unpipe();
      b.removeAllListeners('data');
      this.frozen.add([a, b]);
    }
    this.pairs.clear();
  }

  private readonly frozen = new Set<[net.Socket, net.Socket]>();

  /** Cuts every open connection abruptly (no close frame), like a lost network. */
  cutAll(): void {
    for (const [a, b] of this.pairs) {
      a.destroy();
      b.destroy();
    }
    this.pairs.clear();
  }

  get connections(): number {
    return this.pairs.size;
  }

  async stop(): Promise<void> {
    this.cutAll();
    for (const [a, b] of this.frozen) {
      a.destroy();
      b.destroy();
    }
    this.frozen.clear();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
