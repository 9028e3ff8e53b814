// A real S3 HTTP server (s3rver) for the S3 tests, on 127.0.0.1 and a free port, in a child
// process: s3rver encrypts listing continuation tokens with DES, which OpenSSL 3 refuses unless
// the process starts with --openssl-legacy-provider (DESIGN.md, s3rver quirks). The child serves
// s3rver from its own http.Server so an outage can be simulated by closing every connection and
// the listener, and ended by re-listening on the same port.
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface S3TestServer {
  readonly endpoint: string;
  readonly bucket: string;
  readonly port: number;
  /** The variables that point a coordinator (CLI or child process) at this server. */
  readonly env: Readonly<Record<string, string>>;
  /** Every open connection is cut and new ones are refused until `up()`. */
  down(): Promise<void>;
  up(): Promise<void>;
  stop(): Promise<void>;
}

const CHILD_SOURCE = `
const http = require('node:http');
const S3rver = require(process.env.S3RVER_MODULE);
const s3rver = new S3rver({ silent: true, directory: process.env.S3RVER_DIR,
  configureBuckets: [{ name: process.env.S3RVER_BUCKET }] });
let server;
let port = 0;
function listen() {
  server = http.createServer(s3rver.callback());
  server.keepAliveTimeout = 1000;
  server.listen(port, '127.0.0.1', () => {
    port = server.address().port;
    process.send({ type: 'listening', port });
  });
}
process.on('message', (m) => {
  if (m === 'down') {
    server.close(() => process.send({ type: 'down' }));
    server.closeAllConnections();
  } else if (m === 'up') {
    if (server.listening) process.send({ type: 'listening', port });
    else listen();
  }
  else if (m === 'stop') process.exit(0);
});
s3rver.configureBuckets().then(listen, (err) => { console.error(err); process.exit(1); });
`;

function once<T>(child: ChildProcess, type: string, timeoutMs = 15_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`s3rver child: no ${type} within ${timeoutMs} ms`));
    }, timeoutMs);
    const onMessage = (m: unknown): void => {
      if (typeof m === 'object' && m !== null && (m as { type?: unknown }).type === type) {
        cleanup();
        resolve(m as T);
      }
    };
    const onExit = (code: number | null): void => {
      cleanup();
      reject(new Error(`s3rver child exited (${code}) while waiting for ${type}`));
    };
    const cleanup = (): void => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    child.on('message', onMessage);
    child.on('exit', onExit);
  });
}

export async function startS3Server(bucket = 'syncord-test'): Promise<S3TestServer> {
  const dir = mkdtempSync(path.join(tmpdir(), 'syncord-s3rver-'));
  const script = path.join(dir, 'child.cjs');
  writeFileSync(script, CHILD_SOURCE);
  const require = createRequire(import.meta.url);
  const child = fork(script, [], {
    execArgv: ['--openssl-legacy-provider'],
    env: {
      ...process.env,
      S3RVER_MODULE: require.resolve('s3rver'),
      S3RVER_DIR: path.join(dir, 'data'),
      S3RVER_BUCKET: bucket,
    },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const { port } = await once<{ port: number }>(child, 'listening');
  const endpoint = `http://127.0.0.1:${port}`;
  let stopped = false;
  return {
    endpoint,
    bucket,
    port,
    env: {
      S3_BUCKET: bucket,
      S3_ENDPOINT: endpoint,
      S3_REGION: 'us-east-1',
      S3_ACCESS_KEY_ID: 'S3RVER',
      S3_SECRET_ACCESS_KEY: 'S3RVER',
      S3_FORCE_PATH_STYLE: 'true',
    },
    async down() {
      const done = once(child, 'down');
      child.send('down');
      await done;
    },
    async up() {
      const done = once(child, 'listening');
      child.send('up');
      await done;
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.send('stop');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
