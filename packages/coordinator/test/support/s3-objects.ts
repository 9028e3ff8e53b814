// Reading what the coordinator put in the test bucket, with the SDK directly (independent of the
// coordinator's own S3 code).
import { gunzipSync } from 'node:zlib';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll } from 'vitest';
import { startS3Server, type S3TestServer } from './s3-server.js';

export interface StoredObject {
  readonly key: string;
  readonly body: Buffer;
  readonly contentType?: string;
  readonly contentEncoding?: string;
  readonly metadata: Record<string, string>;
}

export function s3Client(s3: S3TestServer): S3Client {
  return new S3Client({
    endpoint: s3.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

/** Every key under `prefix`, in order (small pages, so paging is exercised too). */
export async function listKeys(client: S3Client, bucket: string, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await client.send(
      new ListObjectsV2Command({
        Bucket: bucket,
        Prefix: prefix,
        MaxKeys: 7,
        ...(token ? { ContinuationToken: token } : {}),
      }),
    );
    for (const item of page.Contents ?? []) keys.push(item.Key!);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return keys;
}

export async function getObject(client: S3Client, bucket: string, key: string): Promise<StoredObject> {
  const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  const body = Buffer.from(await out.Body!.transformToByteArray());
  return {
    key,
    body,
    ...(out.ContentType ? { contentType: out.ContentType } : {}),
    ...(out.ContentEncoding ? { contentEncoding: out.ContentEncoding } : {}),
    metadata: out.Metadata ?? {},
  };
}

/** A gzip snapshot object's JSON. */
export function snapshotJson(object: StoredObject): {
  snapshotId: string;
  databaseId: string;
  timestamp: string;
  prunedHorizon?: string;
  chunks: Record<string, unknown>[];
} {
  return JSON.parse(gunzipSync(object.body).toString('utf8')) as ReturnType<typeof snapshotJson>;
}

/** Polls `check` until it returns true (bounded). */
export async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** The `syncord` flags that point a child process at the test bucket under its own key prefix. */
export function s3Flags(s3: S3TestServer, keyPrefix: string): string[] {
  return [
    '--s3-bucket',
    s3.bucket,
    '--s3-endpoint',
    s3.endpoint,
    '--s3-access-key-id',
    'S3RVER',
    '--s3-secret-access-key',
    'S3RVER',
    '--s3-force-path-style',
    '--s3-key-prefix',
    keyPrefix,
    '--s3-retry-max-delay-ms',
    '200',
  ];
}

/** Coordinator config pointing at the test bucket under its own key prefix. */
export function s3Settings(s3: S3TestServer, keyPrefix: string) {
  return {
    bucket: s3.bucket,
    endpoint: s3.endpoint,
    accessKeyId: 'S3RVER',
    secretAccessKey: 'S3RVER',
    forcePathStyle: true,
    keyPrefix,
    retryMaxDelayMs: 200,
    flushTimeoutMs: 3000,
    snapshotIntervalMs: 3_600_000,
    snapshotChanges: 1_000_000,
  };
}

/**
 * Registers, in the calling test file, one s3rver for all its tests and an SDK client for it;
 * `ready` hands both over once started. Both are stopped after the file's last test.
 */
export function useS3Server(ready: (s3: S3TestServer, client: S3Client) => void): void {
  let s3: S3TestServer | undefined;
  let client: S3Client | undefined;
  beforeAll(async () => {
    s3 = await startS3Server();
    client = s3Client(s3);
    ready(s3, client);
  }, 30_000);
  afterAll(async () => {
    client?.destroy();
    await s3?.stop();
  });
}
