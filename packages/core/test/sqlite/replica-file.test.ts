// A new replica file made from the schema template must be the same database the DDL path builds
// (schema, pragmas, meta), with its own site id, and creating it must never replace a file.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { encodeSiteId, STORE_FORMAT_VERSION } from '@syncord/core';
import { createSqliteReplicaFile, openSqliteReplica } from '@syncord/core/sqlite';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { col, siteOf, tx } from '../replica/helpers.js';

const PRAGMAS = ['journal_mode', 'page_size', 'auto_vacuum', 'encoding', 'user_version', 'application_id'];

/** What makes two replica files the same database: schema objects, file pragmas, meta keys. */
function describeFile(file: string) {
  const db = new Database(file, { readonly: true });
  try {
    return {
      schema: db.prepare('SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name').all(),
      pragmas: Object.fromEntries(PRAGMAS.map((p) => [p, db.pragma(p, { simple: true })])),
      metaKeys: db.prepare<[], string>('SELECT key FROM meta ORDER BY key').pluck().all(),
      integrity: db.pragma('integrity_check', { simple: true }),
    };
  } finally {
    db.close();
  }
}

describe('replica files made from the schema template', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'syncord-template-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('hold the same schema, pragmas and meta as a file built by the schema DDL', async () => {
    const built = join(dir, 'built.sqlite');
    openSqliteReplica(built).close();
    const copied = join(dir, 'copied.sqlite');
    expect(await createSqliteReplicaFile(copied)).toBe(true);
    const expected = describeFile(built);
    expect(expected.schema.length).toBeGreaterThan(10);
    expect(expected.pragmas['journal_mode']).toBe('wal');
    expect(describeFile(copied)).toEqual(expected);
    // and the engine opens it as a store it made itself, in WAL mode, with the current format
    const r = openSqliteReplica(copied);
    r.applyChanges([tx(siteOf(1), 1_700_000_000_000, 1, col('t', [1], 'c', 'x'))]);
    r.close();
    const db = new Database(copied, { readonly: true });
    expect(db.prepare('SELECT value FROM meta WHERE key = ?').pluck().get('formatVersion')).toBe(
      String(STORE_FORMAT_VERSION),
    );
    db.close();
  });

  it('gives every new file its own site id, or the one asked for, kept across reopen', async () => {
    const files = [0, 1, 2].map((i) => join(dir, `t${i}.sqlite`));
    for (const f of files) await createSqliteReplicaFile(f);
    const sites = files.map((f) => {
      const r = openSqliteReplica(f);
      const site = encodeSiteId(r.siteId);
      r.close();
      return site;
    });
    expect(new Set(sites).size).toBe(3);
    const wanted = siteOf(7);
    const chosen = join(dir, 'chosen.sqlite');
    await createSqliteReplicaFile(chosen, { siteId: wanted });
    const r = openSqliteReplica(chosen);
    expect(encodeSiteId(r.siteId)).toBe(encodeSiteId(wanted));
    r.close();
  });

  it('never replaces an existing file and leaves no temporary file behind', async () => {
    const file = join(dir, 'db.sqlite');
    const r = openSqliteReplica(file);
    r.applyChanges([tx(siteOf(1), 1_700_000_000_000, 1, col('t', [1], 'c', 'x'))]);
    const site = encodeSiteId(r.siteId);
    r.close();
    const before = readFileSync(file);
    expect(await createSqliteReplicaFile(file)).toBe(false);
    expect(readFileSync(file).equals(before)).toBe(true);
    const again = openSqliteReplica(file);
    expect(encodeSiteId(again.siteId)).toBe(site);
    again.close();
    // Two creations racing for one name: exactly one makes it, the other leaves it alone.
    const raced = join(dir, 'raced.sqlite');
    const results = await Promise.all([createSqliteReplicaFile(raced), createSqliteReplicaFile(raced)]);
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(readdirSync(dir).filter((n) => n.includes('.creating-'))).toEqual([]);
  });

  it('leaves no database when creation stops before the file is in place', async () => {
    // A crash between writing the temporary image and linking it: the leftover is not a database
    // file, and the database is then created afresh from the template.
    const file = join(dir, 'db.sqlite');
    writeFileSync(`${file}.creating-1-dead`, Buffer.alloc(100));
    expect(existsSync(file)).toBe(false);
    expect(await createSqliteReplicaFile(file)).toBe(true);
    expect(describeFile(file).integrity).toBe('ok');
  });
});
