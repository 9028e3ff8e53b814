// Real nats-server processes for the cluster tests (Debian's binary, JetStream on, a temp store
// dir, loopback only): one server, or a cluster of three joined by routes. Each can be killed and
// restarted on the same ports and store, so a test can lose a server and get it back. The shared
// server the machine runs on 4222 is never touched.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';

// Debian installs it in /usr/sbin, which a non-root PATH may leave out.
const BINARY =
  process.env.NATS_SERVER ?? (existsSync('/usr/sbin/nats-server') ? '/usr/sbin/nats-server' : 'nats-server');
const READY_TIMEOUT_MS = 15_000;

/** A TCP port free on 127.0.0.1 right now (routes need every port before any server starts). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

export interface NatsTestServer {
  readonly name: string;
  readonly port: number;
  readonly url: string;
  readonly storeDir: string;
  readonly running: boolean;
  /** SIGKILL: the process dies at once, as a crashed machine's would. */
  kill(): Promise<void>;
  /** Starts it again on the same ports and store directory. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

interface ServerSpec {
  readonly name: string;
  readonly port: number;
  readonly storeDir: string;
  readonly cluster?: { readonly name: string; readonly port: number; readonly routes: readonly number[] };
}

function argsOf(spec: ServerSpec): string[] {
  const args = ['-a', '127.0.0.1', '-p', String(spec.port), '-js', '-sd', spec.storeDir, '-n', spec.name];
  if (spec.cluster) {
    const routes = spec.cluster.routes.map((p) => `nats://127.0.0.1:${p}`).join(',');
    args.push('--cluster_name', spec.cluster.name, '--cluster', `nats://127.0.0.1:${spec.cluster.port}`);
    args.push('--routes', routes);
  }
  return args;
}

class ServerProcess implements NatsTestServer {
  private child: ChildProcess | undefined;
  private log = '';

  constructor(private readonly spec: ServerSpec) {}

  get name(): string {
    return this.spec.name;
  }
  get port(): number {
    return this.spec.port;
  }
  get url(): string {
    return `nats://127.0.0.1:${this.spec.port}`;
  }
  get storeDir(): string {
    return this.spec.storeDir;
  }
  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Resolves once the server logs that it is ready for clients. */
  start(): Promise<void> {
    if (this.running) return Promise.resolve();
    this.log = '';
    const child = spawn(BINARY, argsOf(this.spec), { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`nats-server ${this.name} not ready in ${READY_TIMEOUT_MS} ms:\n${this.log}`)),
        READY_TIMEOUT_MS,
      );
      const onData = (chunk: Buffer): void => {
        this.log = (this.log + chunk.toString('utf8')).slice(-8192);
        if (this.log.includes('Server is ready')) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout?.on('data', onData);
      child.stderr?.on('data', onData);
      child.once('error', (err) => {
        clearTimeout(timer);
        reject(new Error(`${BINARY} could not start (install Debian's nats-server): ${err.message}`));
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`nats-server ${this.name} exited (${code ?? signal}) before it was ready:\n${this.log}`));
      });
    });
  }

  async kill(): Promise<void> {
    await this.end('SIGKILL');
  }

  async stop(): Promise<void> {
    await this.end('SIGTERM');
  }

  private async end(signal: NodeJS.Signals): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(signal);
    const force = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(force);
  }
}

export interface NatsTestCluster {
  readonly servers: readonly NatsTestServer[];
  /** Every client URL, comma-separated, as `--nats-url` takes them. */
  readonly urls: string;
  stop(): Promise<void>;
}

function tempStore(prefix: string): { dir: string; remove: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** One JetStream server on a free loopback port; `stop()` also removes its store. */
export async function startNatsServer(name = 'n1'): Promise<NatsTestServer & { remove(): Promise<void> }> {
  const store = tempStore('syncord-nats-');
  const server = new ServerProcess({ name, port: await freePort(), storeDir: store.dir });
  await server.start();
  return Object.assign(server, {
    async remove() {
      await server.stop();
      store.remove();
    },
  });
}

/** Three JetStream servers routed into one cluster (replicated streams need all three names). */
export async function startNatsCluster(size = 3): Promise<NatsTestCluster> {
  const store = tempStore('syncord-nats-cluster-');
  const clientPorts: number[] = [];
  const routePorts: number[] = [];
  for (let i = 0; i < size; i++) {
    clientPorts.push(await freePort());
    routePorts.push(await freePort());
  }
  const servers = clientPorts.map(
    (port, i) =>
      new ServerProcess({
        name: `n${i + 1}`,
        port,
        storeDir: path.join(store.dir, `n${i + 1}`),
        cluster: { name: 'syncord-test', port: routePorts[i]!, routes: routePorts.filter((_, j) => j !== i) },
      }),
  );
  await Promise.all(servers.map((s) => s.start()));
  await waitForJetStream(servers.map((s) => s.url).join(','));
  return {
    servers,
    urls: servers.map((s) => s.url).join(','),
    async stop() {
      await Promise.all(servers.map((s) => s.stop()));
      store.remove();
    },
  };
}

/**
 * Resolves once JetStream answers through `urls`: a cluster first elects its meta leader, and
 * until then stream requests time out.
 */
export async function waitForJetStream(urls: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const nc = await connect({ servers: urls.split(','), maxReconnectAttempts: -1 });
  try {
    for (;;) {
      try {
        const jsm = await jetstreamManager(nc, { timeout: 2000 });
        await jsm.getAccountInfo();
        return;
      } catch (err) {
        if (Date.now() > deadline)
          throw new Error(`JetStream not available at ${urls} within ${timeoutMs} ms`, { cause: err });
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
  } finally {
    await nc.close();
  }
}
