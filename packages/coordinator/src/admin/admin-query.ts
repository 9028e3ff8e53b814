// The admin API's query parameters, checked: a bad one is a 400 with the parameter named.

export class AdminError extends Error {
  override readonly name = 'AdminError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export type DatabaseSort = 'id' | 'sessions';

export interface DatabaseQuery {
  readonly offset: number;
  readonly limit: number;
  /** Case-insensitive part of the id. */
  readonly filter: string;
  readonly sort: DatabaseSort;
}

export interface RowsQuery {
  readonly schema: string;
  readonly table: string;
  readonly limit: number;
  readonly after?: string;
}

export const DEFAULT_PAGE_SIZE = 50;

type Raw = Readonly<Record<string, unknown>>;

function text(raw: Raw, name: string): string | undefined {
  const value = raw[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new AdminError(400, 'INVALID_QUERY', `${name} must be given once`);
  return value;
}

function whole(raw: Raw, name: string, fallback: number, min: number, max: number): number {
  const value = text(raw, name);
  if (value === undefined || value === '') return fallback;
  const n = /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max)
    throw new AdminError(
      400,
      'INVALID_QUERY',
      `${name} must be an integer ${min}–${max}, got ${JSON.stringify(value)}`,
    );
  return n;
}

/** `limit` is bounded by admin.maxPageSize. */
function limitOf(raw: Raw, maxPageSize: number): number {
  return whole(raw, 'limit', Math.min(DEFAULT_PAGE_SIZE, maxPageSize), 1, maxPageSize);
}

export function parseDatabaseQuery(raw: Raw, maxPageSize: number): DatabaseQuery {
  const sort = text(raw, 'sort') ?? 'id';
  if (sort !== 'id' && sort !== 'sessions')
    throw new AdminError(400, 'INVALID_QUERY', `sort must be id or sessions, got ${JSON.stringify(sort)}`);
  return {
    offset: whole(raw, 'offset', 0, 0, Number.MAX_SAFE_INTEGER),
    limit: limitOf(raw, maxPageSize),
    filter: (text(raw, 'q') ?? '').trim().toLowerCase(),
    sort,
  };
}

export function parseRowsQuery(raw: Raw, maxPageSize: number): RowsQuery {
  const table = text(raw, 'table');
  if (table === undefined || table === '') throw new AdminError(400, 'INVALID_QUERY', 'table is required');
  const after = text(raw, 'after');
  return {
    schema: text(raw, 'schema') || 'main',
    table,
    limit: limitOf(raw, maxPageSize),
    ...(after !== undefined && after !== '' ? { after } : {}),
  };
}

/** `open=1` (or true): the request may open a closed or evicted database to read it. */
export function asksToOpen(raw: Raw): boolean {
  const value = text(raw, 'open');
  return value === '1' || value === 'true';
}
