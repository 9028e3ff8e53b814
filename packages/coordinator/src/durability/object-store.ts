// The few S3 operations durability needs, over the official SDK. Listings are paginated (the
// reference read one page, so a database with more than 1000 batches restored partially).
import type { Readable } from 'node:stream';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { CoordinatorConfig } from '../config/types.js';

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
export function createS3Client(s3: CoordinatorConfig['s3']): S3Client {
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
  return new S3Client(options);
}

export class ObjectStore {
  constructor(
    readonly client: S3Client,
    readonly bucket: string,
  ) {}

  static fromConfig(s3: CoordinatorConfig['s3']): ObjectStore {
    return new ObjectStore(createS3Client(s3), s3.bucket);
  }

  async put(key: string, body: string | Uint8Array, write: ObjectWrite, signal?: AbortSignal): Promise<void> {
    await this.client.send(
      new PutObjectCommand({
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
    const upload = new Upload({
      client: this.client,
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
    // Stays attached: a body destroyed after the upload settled must still have an error listener.
    const failed = new Promise<never>((_, reject) => {
      body.on('error', (err) => {
        void upload.abort().catch(() => undefined);
        reject(err);
      });
    });
    failed.catch(() => undefined); // observed by the race below, or irrelevant once it is over
    await Promise.race([upload.done(), failed]);
  }

  /** Every key under `prefix`, page after page, in key order. */
  async *list(prefix: string): AsyncGenerator<string> {
    let token: string | undefined;
    do {
      const page = await this.client.send(
        new ListObjectsV2Command({
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
    const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
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
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
  }

  /** s3://bucket/key, for messages. */
  url(key: string): string {
    return `s3://${this.bucket}/${key}`;
  }

  close(): void {
    this.client.destroy();
  }
}
