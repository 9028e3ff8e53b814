import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkDatabaseId, InvalidDatabaseIdError } from './database-id.js';
import {
  defaultStorageName,
  escapeDatabaseId,
  StoragePathError,
  storageFilePath,
  unescapeDatabaseId,
} from './storage-path.js';

const root = path.resolve('/srv/syncord-data');

describe('default storage name', () => {
  it('keeps ids apart that the reference mapped to one directory', () => {
    const ids = ['a:b', 'a.b', 'a_b', 'A_b', 'a-b', 'ab'];
    const names = new Set(ids.map(defaultStorageName));
    expect(names.size).toBe(ids.length);
  });

  it('is readable, lowercase-only (case-insensitive file systems) and reversible', () => {
    expect(escapeDatabaseId('acme:Notes.v2')).toBe('acme_3a_4eotes_2ev2');
    expect(unescapeDatabaseId('acme_3a_4eotes_2ev2')).toBe('acme:Notes.v2');
    expect(escapeDatabaseId('Acme')).not.toBe(escapeDatabaseId('acme'));
    expect(escapeDatabaseId('Acme').toLowerCase()).not.toBe(escapeDatabaseId('acme').toLowerCase());
  });

  it('escapes names Windows reserves', () => {
    expect(escapeDatabaseId('con')).toBe('_63on');
    expect(unescapeDatabaseId('_63on')).toBe('con');
  });

  it('is injective and reversible for any string (property)', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'grapheme', maxLength: 40 }),
        fc.string({ unit: 'grapheme', maxLength: 40 }),
        (a, b) => {
          expect(unescapeDatabaseId(escapeDatabaseId(a))).toBe(a);
          if (a !== b) expect(defaultStorageName(a)).not.toBe(defaultStorageName(b));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('hashes long ids into a bounded name that cannot equal a plain one', () => {
    const long = 'x'.repeat(300);
    const other = `${'x'.repeat(299)}y`;
    const name = defaultStorageName(long);
    expect(name.length).toBeLessThan(200);
    expect(name).toContain('~');
    expect(name).not.toBe(defaultStorageName(other));
    // Escapes are never cut in half.
    const odd = defaultStorageName(':'.repeat(100));
    expect(odd.split('~')[0]).toMatch(/^(_3a)+$/);
  });
});

describe('storageFilePath', () => {
  it('puts the default file directly in dataDir', () => {
    expect(storageFilePath(root, '../../etc/passwd')).toBe(
      path.join(root, `${defaultStorageName('../../etc/passwd')}.sqlite`),
    );
    expect(path.dirname(storageFilePath(root, '../x'))).toBe(root);
  });

  it('accepts a hook path inside dataDir and refuses every escape', () => {
    const at = (p: string) => storageFilePath(root, 'db', { resolveStoragePath: () => p });
    expect(at('tenants/acme/notes')).toBe(path.join(root, 'tenants/acme/notes.sqlite'));
    expect(at(path.join(root, 'abs'))).toBe(path.join(root, 'abs.sqlite'));
    expect(at('..foo')).toBe(path.join(root, '..foo.sqlite'));
    for (const bad of ['../outside', 'a/../../outside', '/etc/passwd', '.', '', 'a\0b', path.dirname(root)]) {
      expect(() => at(bad), bad).toThrow(StoragePathError);
    }
    expect(() => storageFilePath(root, 'db', { resolveStoragePath: () => 42 as unknown as string })).toThrow(
      StoragePathError,
    );
  });
});

describe('checkDatabaseId', () => {
  const rules = { maxLength: 20 };

  it('follows §6.6 by default', () => {
    expect(checkDatabaseId('acme:notes.v2-x_y', rules)).toBe('acme:notes.v2-x_y');
    for (const bad of ['', 'a b', 'a/b', 'é', null, 7, undefined]) {
      expect(() => checkDatabaseId(bad, rules)).toThrow(InvalidDatabaseIdError);
    }
    expect(() => checkDatabaseId('a b', rules)).toThrow('Invalid database ID: "a b"');
  });

  it('enforces the length limit, also under a hook, and names the limit', () => {
    const err = (() => {
      try {
        checkDatabaseId('x'.repeat(21), { maxLength: 20, hooks: { isValidDatabaseId: () => true } });
      } catch (e) {
        return e as InvalidDatabaseIdError;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(InvalidDatabaseIdError);
    expect(err?.limit).toBe('maxDatabaseIdLength');
    expect(err?.code).toBe('INVALID_DATABASE_ID');
  });

  it('lets the hook decide, and treats a throwing hook as a refusal', () => {
    const hooks = { isValidDatabaseId: (id: string) => id.startsWith('t-') };
    expect(checkDatabaseId('t-a b', { maxLength: 20, hooks })).toBe('t-a b');
    expect(() => checkDatabaseId('acme', { maxLength: 20, hooks })).toThrow(InvalidDatabaseIdError);
    const throwing = {
      isValidDatabaseId: () => {
        throw new Error('boom');
      },
    };
    expect(() => checkDatabaseId('acme', { maxLength: 20, hooks: throwing })).toThrow(/boom/);
  });
});
