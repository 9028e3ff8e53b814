// databaseId validation (PROTOCOL.md §6.6) plus our length limit (DESIGN "Limits everywhere").
import { ProtocolError } from '@syncord/core';
import type { StoreContext, StoreManagerHooks } from './types.js';

/** The reference's default rule: non-empty, letters, digits and `_ : . -`. */
export const DEFAULT_DATABASE_ID_PATTERN = /^[a-zA-Z0-9_:.-]+$/;

/** An id that is not acceptable; WS reports it as AUTH_FAILED, HTTP as 400 INVALID_DATABASE_ID. */
export class InvalidDatabaseIdError extends ProtocolError {
  constructor(
    message: string,
    /** Set when a configured limit (not the pattern) refused the id, for the limit metric. */
    readonly limit?: string,
  ) {
    super('INVALID_DATABASE_ID', message);
  }
}

/** Odd ids are JSON-quoted and long ones shortened, so an error message or log line stays readable. */
function shown(id: string): string {
  if (id.length <= 64 && DEFAULT_DATABASE_ID_PATTERN.test(id)) return id;
  return JSON.stringify(id.length > 64 ? `${id.slice(0, 64)}…` : id);
}

export interface DatabaseIdRules {
  readonly maxLength: number;
  readonly hooks?: StoreManagerHooks;
}

/**
 * Returns the id when acceptable, else throws InvalidDatabaseIdError. The length limit is checked
 * first and also applies under an `isValidDatabaseId` hook: it bounds file names and log lines.
 */
export function checkDatabaseId(id: unknown, rules: DatabaseIdRules, ctx?: StoreContext): string {
  if (typeof id !== 'string' || id.length === 0) throw new InvalidDatabaseIdError('Invalid database ID: (empty)');
  if (id.length > rules.maxLength) {
    throw new InvalidDatabaseIdError(
      `Invalid database ID: ${shown(id)} is ${id.length} characters, longer than maxDatabaseIdLength ${rules.maxLength}`,
      'maxDatabaseIdLength',
    );
  }
  const hook = rules.hooks?.isValidDatabaseId;
  let ok: boolean;
  try {
    ok = hook ? hook(id, ctx) === true : DEFAULT_DATABASE_ID_PATTERN.test(id);
  } catch (err) {
    throw new InvalidDatabaseIdError(`Invalid database ID: ${shown(id)} (isValidDatabaseId threw: ${String(err)})`);
  }
  if (!ok) throw new InvalidDatabaseIdError(`Invalid database ID: ${shown(id)}`);
  return id;
}
