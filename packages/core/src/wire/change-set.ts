// ChangeSet <-> JSON (PROTOCOL.md §2). One ChangeSet is one source transaction; the decoder
// proves that before the engine sees it, because the engine groups, echo-filters and drift-checks
// by the set's identity.
import { bytesEqual } from '../clock/bytes.js';
import { compareHLC, decodeHLC, encodeHLC, type HLC } from '../clock/hlc.js';
import { decodeSiteId, encodeSiteId } from '../clock/site-id.js';
import { TransactionHlcDecoder } from '../clock/transaction-hlc-decoder.js';
import { transactionIdOf } from '../clock/transaction-id.js';
import {
  describeValue,
  expectArray,
  expectName,
  expectObject,
  expectString,
  fieldPath,
  optionalString,
  type JsonObject,
} from './fields.js';
import { decodeSchemaMigration, encodeSchemaMigration, type SerializedSchemaMigration } from './schema-migration.js';
import { decodeSqlValue, decodeSqlValues, encodeSqlValue, encodeSqlValues, isPlainSqlValue } from './sql-value.js';
import type { Change, ChangeSet, SchemaMigration, SqlValue } from './types.js';
import { WireError } from './wire-error.js';

export interface SerializedColumnChange {
  type: 'column';
  schema: string;
  table: string;
  pk: unknown[];
  column: string;
  value: unknown;
  hlc: string;
  priorValue?: unknown;
  priorHlc?: string;
}

export interface SerializedDeleteChange {
  type: 'delete';
  schema: string;
  table: string;
  pk: unknown[];
  hlc: string;
  priorRow?: unknown[];
}

export type SerializedChange = SerializedColumnChange | SerializedDeleteChange;

export interface SerializedChangeSet {
  siteId: string;
  transactionId: string;
  /** The max fact HLC of the transaction. */
  hlc: string;
  changes: SerializedChange[];
  schemaMigrations: SerializedSchemaMigration[];
}

/**
 * The newest `hlc` among the sets: where a reply or a push ends, and so the watermark or cursor it
 * moves to. Undefined for none.
 */
export function maxChangeSetHlc(sets: readonly ChangeSet[]): HLC | undefined {
  let max: HLC | undefined;
  for (const cs of sets) if (max === undefined || compareHLC(cs.hlc, max) > 0) max = cs.hlc;
  return max;
}

export function encodeChange(c: Change): SerializedChange {
  if (c.type === 'column') {
    const out: SerializedColumnChange = {
      type: 'column',
      schema: c.schema,
      table: c.table,
      pk: encodeSqlValues(c.pk),
      column: c.column,
      value: encodeSqlValue(c.value),
      hlc: encodeHLC(c.hlc),
    };
    if (c.prior) {
      out.priorValue = encodeSqlValue(c.prior.value);
      out.priorHlc = encodeHLC(c.prior.hlc);
    }
    return out;
  }
  const out: SerializedDeleteChange = {
    type: 'delete',
    schema: c.schema,
    table: c.table,
    pk: encodeSqlValues(c.pk),
    hlc: encodeHLC(c.hlc),
  };
  if (c.priorRow) out.priorRow = encodeSqlValues(c.priorRow);
  return out;
}

/** `transactionId` is always rebuilt from the base HLC (§1.4); it is deterministic. */
export function encodeChangeSet(cs: ChangeSet): SerializedChangeSet {
  return {
    siteId: encodeSiteId(cs.siteId),
    transactionId: transactionIdOf(cs.hlc),
    hlc: encodeHLC(cs.hlc),
    changes: cs.changes.map(encodeChange),
    schemaMigrations: cs.schemaMigrations.map(encodeSchemaMigration),
  };
}

/**
 * What the facts of one set share, so each is decoded once per set: the transaction's HLC base
 * (see TransactionHlcDecoder) and the few schema, table and column names a set repeats.
 */
interface SetContext {
  readonly hlcs: TransactionHlcDecoder;
  readonly names: Set<string>;
}

/** A name field; paths are only built for a value that is not already known to be good. */
function nameField(o: JsonObject, key: string, what: string, names: Set<string> | undefined): string {
  const v = o[key];
  if (typeof v === 'string' && names?.has(v)) return v;
  const name = expectName(v, fieldPath(what, key));
  names?.add(name);
  return name;
}

function valueField(o: JsonObject, key: string, what: string): SqlValue {
  const v = o[key];
  return isPlainSqlValue(v) ? v : decodeSqlValue(v, fieldPath(what, key));
}

export function decodeChange(json: unknown, what = 'change', context?: SetContext): Change {
  const o = expectObject(json, what);
  const type = o['type'];
  if (type !== 'column' && type !== 'delete') {
    const text = expectString(type, fieldPath(what, 'type'));
    throw new WireError(`${fieldPath(what, 'type')} must be "column" or "delete", got ${describeValue(text)}`);
  }
  const names = context?.names;
  const schema = nameField(o, 'schema', what, names);
  const table = nameField(o, 'table', what, names);
  const pk = decodeSqlValues(o['pk'], fieldPath(what, 'pk'));
  const hlc = context
    ? context.hlcs.decode(o['hlc'], () => fieldPath(what, 'hlc'))
    : decodeHLC(o['hlc'], fieldPath(what, 'hlc'));
  if (type === 'delete') {
    const priorRow =
      o['priorRow'] === undefined ? undefined : decodeSqlValues(o['priorRow'], fieldPath(what, 'priorRow'));
    return { type, schema, table, pk, hlc, ...(priorRow ? { priorRow } : {}) };
  }
  const column = nameField(o, 'column', what, names);
  if (o['value'] === undefined) throw new WireError(`${fieldPath(what, 'value')} is required`);
  const value = valueField(o, 'value', what);
  const hasPriorValue = o['priorValue'] !== undefined;
  const hasPriorHlc = o['priorHlc'] !== undefined;
  if (hasPriorValue !== hasPriorHlc) {
    throw new WireError(`${what}: priorValue and priorHlc must appear together or not at all`);
  }
  if (!hasPriorValue) return { type, schema, table, pk, column, value, hlc };
  const prior = {
    value: valueField(o, 'priorValue', what),
    hlc: decodeHLC(o['priorHlc'], fieldPath(what, 'priorHlc')),
  };
  return { type, schema, table, pk, column, value, hlc, prior };
}

/**
 * Validates a wire ChangeSet and returns it typed. Beyond field shapes it enforces the §2
 * invariants the engine relies on:
 * - every fact and migration HLC carries the set's (wallTime, counter, siteId), and the set's
 *   `siteId` and `hlc` name that same transaction — otherwise a WireError, because a set that
 *   mixes transactions or lies about its origin cannot be repaired without guessing;
 * - no two facts share an opSeq (an HLC must identify one fact);
 * - `hlc` is normalised to the max fact HLC (only its opSeq can differ once the checks above
 *   passed), so drift checks and watermarks see what the set really holds;
 * - `transactionId` is informational: it must be a string when present and is rebuilt from `hlc`.
 * `schemaMigrations` absent (or null) reads as []. Changes need not arrive in opSeq order (the
 * engine orders by HLC). Unknown extra fields are ignored.
 */
export function decodeChangeSet(json: unknown, what = 'changeSet'): ChangeSet {
  const o = expectObject(json, what);
  const siteId = decodeSiteId(o['siteId'], fieldPath(what, 'siteId'));
  optionalString(o['transactionId'], fieldPath(what, 'transactionId'));
  const claimed = decodeHLC(o['hlc'], fieldPath(what, 'hlc'));
  const changesPath = fieldPath(what, 'changes');
  const context: SetContext = { hlcs: new TransactionHlcDecoder(claimed, o['hlc'] as string), names: new Set() };
  const changes = expectArray(o['changes'], changesPath).map((c, i) =>
    decodeChange(c, `${changesPath}[${i}]`, context),
  );
  const rawMigrations = o['schemaMigrations'];
  const migrationsPath = fieldPath(what, 'schemaMigrations');
  const schemaMigrations: SchemaMigration[] =
    rawMigrations === undefined || rawMigrations === null
      ? []
      : expectArray(rawMigrations, migrationsPath).map((m, i) => decodeSchemaMigration(m, `${migrationsPath}[${i}]`));

  if (!bytesEqual(claimed.siteId, siteId)) {
    throw new WireError(`${fieldPath(what, 'hlc')} has a siteId other than ${fieldPath(what, 'siteId')}`);
  }
  let hlc: HLC | undefined;
  const seen = new Set<number>();
  // claimed.siteId equals siteId (checked above) and is the very array the facts decoded on the
  // fast path share, so comparing with it is mostly an identity check.
  const check = (fact: HLC, list: string, i: number): void => {
    if (
      fact.wallTime !== claimed.wallTime ||
      fact.counter !== claimed.counter ||
      !bytesEqual(fact.siteId, claimed.siteId)
    ) {
      throw new WireError(
        `${list}[${i}].hlc belongs to transaction ${transactionIdOf(fact)}, not to the set's ${transactionIdOf(claimed)}`,
      );
    }
    if (seen.has(fact.opSeq)) {
      throw new WireError(`${list}[${i}].hlc repeats opSeq ${fact.opSeq} within the transaction`);
    }
    seen.add(fact.opSeq);
    if (hlc === undefined || fact.opSeq > hlc.opSeq) hlc = fact;
  };
  schemaMigrations.forEach((m, i) => check(m.hlc, migrationsPath, i));
  changes.forEach((c, i) => check(c.hlc, changesPath, i));
  const max = hlc ?? claimed;
  return { siteId, transactionId: transactionIdOf(max), hlc: max, changes, schemaMigrations };
}
