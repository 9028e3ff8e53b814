// Cheap shape checks on typed input. The wire decoders prove much more; these guard the stores
// against callers that build ChangeSets by hand, so bad input is refused before anything is written.
import { SITE_ID_BYTES } from '../clock/site-id.js';
import { MIGRATION_TYPES, type Change, type ChangeSet, type SchemaMigration } from '../wire/types.js';
import { expectWellFormedString, nameProblem } from '../wire/fields.js';
import { WireError } from '../wire/wire-error.js';

/** `good` holds names already checked in this call: a batch repeats few names many times. */
function name(v: unknown, what: () => string, key: string, good?: Set<string>): void {
  if (typeof v !== 'string') throw new WireError(`${what()}${key} must be a non-empty string`);
  if (good?.has(v)) return;
  const problem = nameProblem(v);
  if (problem !== undefined) throw new WireError(`${what()}${key} ${problem}`);
  good?.add(v);
}

function hlcShape(h: unknown, what: () => string, key: string): void {
  const o = h as { wallTime?: unknown; counter?: unknown; siteId?: unknown; opSeq?: unknown } | null;
  if (
    typeof o !== 'object' ||
    o === null ||
    typeof o.wallTime !== 'bigint' ||
    typeof o.counter !== 'number' ||
    typeof o.opSeq !== 'number' ||
    !(o.siteId instanceof Uint8Array) ||
    o.siteId.length !== SITE_ID_BYTES
  ) {
    throw new WireError(`${what()}${key} must be an HLC`);
  }
}

export function assertPk(pk: unknown, what: string): void {
  if (!Array.isArray(pk) || pk.length === 0) throw new WireError(`${what} must be a non-empty array`);
}

export function assertChange(c: Change, what: string | (() => string), good?: Set<string>): void {
  const at = typeof what === 'string' ? () => what : what;
  if (c.type !== 'column' && c.type !== 'delete') throw new WireError(`${at()}.type must be "column" or "delete"`);
  name(c.schema, at, '.schema', good);
  name(c.table, at, '.table', good);
  if (!Array.isArray(c.pk) || c.pk.length === 0) assertPk(c.pk, `${at()}.pk`);
  hlcShape(c.hlc, at, '.hlc');
  if (c.type === 'column') {
    name(c.column, at, '.column', good);
    if (c.value === undefined) throw new WireError(`${at()}.value is required`);
    if (typeof c.value === 'number' && !Number.isFinite(c.value)) throw new WireError(`${at()}.value must be finite`);
  }
}

export function assertMigration(m: SchemaMigration, what: string): void {
  if (!(MIGRATION_TYPES as readonly string[]).includes(m.type))
    throw new WireError(`${what}.type is not a migration type`);
  const at = (): string => what;
  name(m.schema, at, '.schema');
  name(m.table, at, '.table');
  expectWellFormedString(m.ddl, `${what}.ddl`);
  if (m.fromTable !== undefined) name(m.fromTable, at, '.fromTable');
  if (!Number.isSafeInteger(m.schemaVersion)) throw new WireError(`${what}.schemaVersion must be an integer`);
  hlcShape(m.hlc, at, '.hlc');
}

export function assertChangeSets(sets: readonly ChangeSet[]): void {
  if (!Array.isArray(sets)) throw new WireError('changeSets must be an array');
  const good = new Set<string>();
  sets.forEach((cs, i) => {
    const what = `changeSets[${i}]`;
    if (typeof cs !== 'object' || cs === null) throw new WireError(`${what} must be a ChangeSet`);
    hlcShape(cs.hlc, () => what, '.hlc');
    if (!Array.isArray(cs.changes)) throw new WireError(`${what}.changes must be an array`);
    if (!Array.isArray(cs.schemaMigrations)) throw new WireError(`${what}.schemaMigrations must be an array`);
    // Paths are only spelled out for a change that fails.
    cs.changes.forEach((c: Change, j: number) => assertChange(c, () => `${what}.changes[${j}]`, good));
    cs.schemaMigrations.forEach((m: SchemaMigration, j: number) =>
      assertMigration(m, `${what}.schemaMigrations[${j}]`),
    );
  });
}
