// A local S3 server (s3rver) for the benchmarks, in a child process on 127.0.0.1 and a free port:
// s3rver encrypts listing tokens with DES, which OpenSSL 3 refuses unless the process starts with
// --openssl-legacy-provider. Its objects live under `dir`.
import { fork } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const CHILD = `
const http = require('node:http');
const S3rver = require(process.env.S3RVER_MODULE);
const s3rver = new S3rver({ silent: true, directory: process.env.S3RVER_DIR, configureBuckets: [{ name: process.env.S3RVER_BUCKET }] });
s3rver.configureBuckets().then(() => {
  const server = http.createServer(s3rver.callback());
  server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));
});
process.on('message', () => process.exit(0));
`;

/** Starts s3rver with one bucket; `stop()` ends it. */
export async function startS3rver(dir, bucket) {
  const script = join(dir, 's3rver.cjs');
  writeFileSync(script, CHILD);
  const require = createRequire(join(fileURLToPath(import.meta.url), '../../../packages/coordinator/package.json'));
  const proc = fork(script, [], {
    execArgv: ['--openssl-legacy-provider'],
    env: {
      ...process.env,
      S3RVER_MODULE: require.resolve('s3rver'),
      S3RVER_DIR: join(dir, 's3'),
      S3RVER_BUCKET: bucket,
    },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const { port } = await new Promise((resolve) => proc.once('message', resolve));
  return {
    endpoint: `http://127.0.0.1:${port}`,
    pid: proc.pid,
    stop: () =>
      new Promise((resolve) => {
        proc.once('exit', resolve);
        proc.send('stop');
      }),
  };
}
