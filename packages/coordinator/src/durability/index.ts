// S3 durability: change-batch archive with a durable outbox, streamed snapshots, restore,
// disk eviction, point-in-time restore (PROTOCOL.md §10).
export { Durability } from './durability.js';
export type { DurabilityOptions } from './durability.js';
export { ArchiveLayout, defaultS3StoragePath, keyTimestamp, s3StoragePath, timeOfKey } from './archive-keys.js';
export type { ArchiveKind, ArchivedObject } from './archive-keys.js';
export { ObjectStore, UPLOAD_PART_BYTES } from './object-store.js';
export type { ObjectWrite } from './object-store.js';
export { decodeBatch, encodeBatch } from './batch-record.js';
export type { BatchBody, DecodedBatch } from './batch-record.js';
export { readSnapshot, uploadSnapshot } from './snapshot-archive.js';
export type { SnapshotEnvelope, SnapshotUploadReport } from './snapshot-archive.js';
export { listArchived, listBases, REPLAY_MARGIN_MS } from './archive-listing.js';
export { restoreDatabase, RestoreError } from './restore.js';
export type { OpenFile, RestoreInput, RestoreReport } from './restore.js';
export { pruneArchive, restorableFrom } from './retention.js';
export { uploadImage } from './image.js';
export { EVICTED_SUFFIX, readEvicted } from './evicted-marker.js';
export { readMark } from './snapshot-schedule.js';
export type { EvictedMarker } from './evicted-marker.js';
export type { DurabilityMetrics, OutboxTotals } from './durability-metrics.js';
