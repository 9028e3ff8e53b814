import path from 'node:path';
import type { CoordinatorConfig } from '../config/index.js';

/** The one line an operator reads at start: where clients connect and what the server runs with. */
export function startupBanner(
  config: CoordinatorConfig,
  address: { host: string; port: number },
): { message: string; fields: Record<string, unknown> } {
  const host = address.host.includes(':') ? `[${address.host}]` : address.host;
  const base = config.basePath === '/' ? '' : config.basePath;
  const url = `ws://${host}:${address.port}${base}/ws`;
  const dataDir = path.resolve(config.dataDir);
  const s3 = config.s3.bucket === '' ? 'off' : `s3://${config.s3.bucket}/${config.s3.keyPrefix}`;
  // Server list only: a NATS URL may carry credentials (nats://user:pass@host).
  const cluster =
    config.cluster.natsUrl === ''
      ? 'off'
      : `${config.cluster.natsUrl
          .split(',')
          .map((u) => u.trim().replace(/\/\/[^@/]*@/, '//'))
          .join(',')} (prefix ${config.cluster.subjectPrefix}, replicas ${config.cluster.replicas})`;
  const fields = {
    url,
    host: address.host,
    port: address.port,
    basePath: config.basePath,
    dataDir,
    auth: config.auth.mode,
    s3,
    cluster,
  };
  const message = `Syncord ready: ${url} · data ${dataDir} · auth ${config.auth.mode} · S3 ${s3} · cluster ${cluster}`;
  return { message, fields };
}
