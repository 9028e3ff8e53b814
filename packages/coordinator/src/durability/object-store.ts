// The few S3 operations durability needs, over the official SDK. Listings are paginated (the
// reference read one page, so a database with more than 1000 batches restored partially).
import type { Readable } from 'node:stream';
import type * as ClientS3 from '@aws-sdk/client-s3';
import type { S3Client, S3ClientConfig } from '@aws-sdk/client-s3';
import type * as LibStorage from '@aws-sdk/lib-storage';
import type { CoordinatorConfig } from '../config/types.js';

// The SDK is about a third of the server's start-up time (~350 ms of CPU here), so it is loaded on
// first use: a server without S3 never pays for it, and a restarting node is listening sooner.
interface Sdk {
  readonly s3: typeof ClientS3;
  readonly storage: typeof LibStorage;
}
let loading: Promise<Sdk> | undefined;
const loadSdk = (): Promise<Sdk> =>
  (loading ??= Promise.all([import('@aws-sdk/client-s3'), import('@aws-sdk/lib-storage')]).then(([s3, storage]) => ({
    s3,
    storage,
  })));

export interface ObjectWrite {
  readonly contentType: string;
  readonly contentEncoding?: string;
  /** User metadata (`x-amz-meta-*`); keys lowercase. */
  readonly metadata?: Readonly<Record<string, string>>;
}

/** Multipart part size: S3's minimum, so an upload buffers at most `UPLOAD_QUEUE` parts of it. */
export const UPLOAD_PART_BYTES = 5 * 1024 * 1024;
const UPLOAD_QUEUE = 2;

/** The SDK client for `config.s3` (endpoint, path style, key pair, checksum mode). */
function createS3Client(sdk: Sdk, s3: CoordinatorConfig['s3']): S3Client {
  const checksums = s3.checksums === 'when-required' ? 'WHEN_REQUIRED' : 'WHEN_SUPPORTED';
  const options: S3ClientConfig = {
    region: s3.region,
    forcePathStyle: s3.forcePathStyle,
    requestChecksumCalculation: checksums,
    responseChecksumValidation: checksums,
    // A few quick retries for throttling and dropped connections; batch uploads retry on their own
    // schedule beyond that, a failed snapshot waits for the next one, a failed restore for the next open.
    maxAttempts: 3,
    ...(s3.endpoint !== '' ? { endpoint: s3.endpoint } : {}),
    ...(s3.accessKeyId !== ''
      ? { credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey } }
      : {}),
  };
  return new sdk.s3.S3Client(options);
}

export class ObjectStore {
  readonly bucket: string;
  private client?: S3Client;

  private constructor(private readonly settings: CoordinatorConfig['s3']) {
    this.bucket = settings.bucket;
  }

  static fromConfig(s3: CoordinatorConfig['s3']): ObjectStore {
    return new ObjectStore(s3);
  }

  /** The SDK and this store's client, both made on first use. */
  private async sdk(): Promise<{ sdk: Sdk; client: S3Client }> {
    const sdk = await loadSdk();
    this.client ??= createS3Client(sdk, this.settings);
    return { sdk, client: this.client };
  }

  async put(key: string, body: string | Uint8Array, write: ObjectWrite, signal?: AbortSignal): Promise<void> {
    const { sdk, client } = await this.sdk();
    await client.send(
      new sdk.s3.PutObjectCommand({
        Bucket: this.bucket,
        Key: key,
        Body: body,
        ContentType: write.contentType,
        ...(write.contentEncoding ? { ContentEncoding: write.contentEncoding } : {}),
        ...(write.metadata ? { Metadata: { ...write.metadata } } : {}),
      }),
      signal ? { abortSignal: signal } : {},
    );
  }

  /**
   * Streams `body` into one object: multipart once it passes a part, so memory holds at most a
   * few parts whatever the size. Rejects (and aborts the upload) if the body errors.
   */
  async upload(key: string, body: Readable, write: ObjectWrite): Promise<void> {
    const started: { abort?: () => Promise<void> } = {};
    // Attached first and kept: a body that errors while the SDK loads, or after the upload
    // settled, must still have an error listener.
    const failed = new Promise<never>((_, reject) => {
      body.on('error', (err) => {
        void started.abort?.().catch(() => undefined);
        reject(err);
      });
    });
    failed.catch(() => undefined); // observed by the races below, or irrelevant once they are over
    const { sdk, client } = await Promise.race([this.sdk(), failed]);
    const upload = new sdk.storage.Upload({
      client,
      partSize: UPLOAD_PART_BYTES,
      queueSize: UPLOAD_QUEUE,
      leavePartsOnError: false,
      params: {
        Bucket: this.bucket,
        Key: key,
        Body: body,
        ContentType: write.contentType,
        ...(write.contentEncoding ? { ContentEncoding: write.contentEncoding } : {}),
        ...(write.metadata ? { Metadata: { ...write.metadata } } : {}),
      },
    });
    started.abort = () => upload.abort();
    await Promise.race([upload.done(), failed]);
  }

  /** Every key under `prefix`, page after page, in key order. */
  async *list(prefix: string): AsyncGenerator<string> {
    let token: string | undefined;
    const { sdk, client } = await this.sdk();
    do {
      const page = await client.send(
        new sdk.s3.ListObjectsV2Command({
          Bucket: this.bucket,
          Prefix: prefix,
          ...(token ? { ContinuationToken: token } : {}),
        }),
      );
      for (const item of page.Contents ?? []) if (item.Key !== undefined) yield item.Key;
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  /** The object's body as a stream, and its user metadata. */
  async get(key: string): Promise<{ body: Readable; metadata: Record<string, string> }> {
    const { sdk, client } = await this.sdk();
    const out = await client.send(new sdk.s3.GetObjectCommand({ Bucket: this.bucket, Key: key }));
    if (!out.Body) throw new Error(`s3://${this.bucket}/${key} has no body`);
    return { body: out.Body as Readable, metadata: out.Metadata ?? {} };
  }

  async getText(key: string): Promise<string> {
    const { body } = await this.get(key);
    const parts: Buffer[] = [];
    for await (const part of body) parts.push(Buffer.isBuffer(part) ? part : Buffer.from(part as Uint8Array));
    return Buffer.concat(parts).toString('utf8');
  }

  /** The object's text, or undefined when there is no such key. */
  async getTextIfExists(key: string): Promise<string | undefined> {
    try {
      return await this.getText(key);
    } catch (err) {
      if (err instanceof Error && (err.name === 'NoSuchKey' || err.name === 'NotFound')) return undefined;
      throw err;
    }
  }

  async delete(key: string): Promise<void> {
    const { sdk, client } = await this.sdk();
    await client.send(new sdk.s3.DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
  }

  /** s3://bucket/key, for messages. */
  url(key: string): string {
    return `s3://${this.bucket}/${key}`;
  }

  close(): void {
    this.client?.destroy();
  }
}
