import { describe, expect, it } from 'vitest';
import { ArchiveLayout, defaultS3StoragePath, keyTimestamp, s3StoragePath, timeOfKey } from './archive-keys.js';
import { backoffDelay, BACKOFF_BASE_MS } from './backoff.js';

describe('archive keys (PROTOCOL.md §10.2)', () => {
  it('maps database ids to storage paths as the reference does', () => {
    expect(defaultS3StoragePath('acme:notes.v2')).toBe('acme/notes_v2');
    expect(defaultS3StoragePath('a b/é')).toBe('a_b/_');
    expect(s3StoragePath('x', { resolveStoragePath: (id) => `/tenants/${id}/` })).toBe('tenants/x');
    expect(() => s3StoragePath('x', { resolveStoragePath: () => '//' })).toThrow(/no usable S3 path/);
  });

  it('writes times as ISO with : and . turned into -, and reads them back', () => {
    const ms = Date.UTC(2024, 5, 10, 6, 13, 20, 7);
    expect(keyTimestamp(ms)).toBe('2024-06-10T06-13-20-007Z');
    expect(timeOfKey(`p/db/batches/${keyTimestamp(ms)}_0f8e2d4c.json`)).toBe(ms);
    expect(timeOfKey('p/db/batches/latest.json')).toBeUndefined();
  });

  it('names and recognises the objects of one database only', () => {
    const layout = new ArchiveLayout('acme:notes', 'acme/notes', 'prod/');
    const key = layout.key('snapshots', 0, 'id');
    expect(key).toBe('prod/acme/notes/snapshots/1970-01-01T00-00-00-000Z_id.json');
    expect(layout.key('images', 0, 'id')).toBe('prod/acme/notes/images/1970-01-01T00-00-00-000Z_id.sqlite.gz');
    expect(layout.parse('snapshots', key)).toEqual({ key, kind: 'snapshots', time: 0 });
    expect(layout.parse('batches', key)).toBeUndefined();
    expect(
      layout.parse('snapshots', 'prod/acme/notes/snapshots/deeper/1970-01-01T00-00-00-000Z_id.json'),
    ).toBeUndefined();
  });
});

describe('upload backoff', () => {
  it('doubles from the base up to the cap, with bounded jitter', () => {
    const mid = () => 0.5;
    expect([1, 2, 3, 4].map((n) => backoffDelay(n, 10_000, mid))).toEqual([100, 200, 400, 800]);
    expect(backoffDelay(40, 1000, mid)).toBe(1000);
    expect(backoffDelay(1, 10_000, () => 0)).toBe(0.75 * BACKOFF_BASE_MS);
    expect(backoffDelay(1, 10_000, () => 1)).toBe(1.25 * BACKOFF_BASE_MS);
  });
});
