/**
 * The kinds of values an option can hold. Each kind reads text (environment variables and flags
 * are text) and checks a typed value (config files and programmatic overrides are typed), so the
 * same rule applies whatever the source.
 */
export interface ValueKind {
  /** What a valid value is; completes "must be …" in errors and --help. */
  readonly expect: string;
  /** Turns text into a candidate value; text it cannot read is returned as is for `check` to refuse. */
  fromText(text: string): unknown;
  /** The value normalised, or `undefined` when it is not valid. */
  check(value: unknown): unknown;
}

const TRUE_WORDS = new Set(['true', '1', 'yes', 'on']);
const FALSE_WORDS = new Set(['false', '0', 'no', 'off']);

function splitList(text: string): string[] {
  return text
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '');
}

const isListOf = (value: unknown, item: (v: unknown) => boolean): value is string[] =>
  Array.isArray(value) && value.every(item);

const isCleanString = (v: unknown): v is string => typeof v === 'string' && v !== '' && v.trim() === v;

/** A non-empty string without surrounding whitespace (host names, paths). */
export function text(expect: string): ValueKind {
  return { expect, fromText: (t) => t.trim(), check: (v) => (isCleanString(v) ? v : undefined) };
}

/** A whole number in [min, max]; text must be plain decimal digits (no units, no exponent). */
export function integer(min: number, max: number = Number.MAX_SAFE_INTEGER): ValueKind {
  const expect = max === Number.MAX_SAFE_INTEGER ? `an integer ≥ ${min}` : `an integer ${min}–${max}`;
  return {
    expect,
    fromText: (t) => (/^\s*\+?\d+\s*$/.test(t) ? Number(t) : t),
    check: (v) => (typeof v === 'number' && Number.isSafeInteger(v) && v >= min && v <= max ? v : undefined),
  };
}

export const boolean: ValueKind = {
  expect: 'true or false',
  fromText: (t) => {
    const word = t.trim().toLowerCase();
    return TRUE_WORDS.has(word) ? true : FALSE_WORDS.has(word) ? false : t;
  },
  check: (v) => (typeof v === 'boolean' ? v : undefined),
};

export function oneOf<T extends string>(values: readonly T[]): ValueKind {
  return {
    expect: `one of ${values.join(', ')}`,
    fromText: (t) => t.trim(),
    check: (v) => (typeof v === 'string' && (values as readonly string[]).includes(v) ? v : undefined),
  };
}

/**
 * A URL path prefix, normalised without a trailing slash so `${basePath}/ws` is always right;
 * the root is the empty string (given as "/").
 */
export const urlPath: ValueKind = {
  expect: 'a URL path such as "/sync" ("/" for the root)',
  fromText: (t) => t.trim(),
  check: (v) => {
    if (typeof v !== 'string') return undefined;
    const path = v.replace(/\/+$/, '');
    return path === '' || /^(\/[^/\s?#]+)+$/.test(path) ? path : undefined;
  },
};

/**
 * CORS origins: `true` reflects any origin, `false` turns CORS off, otherwise the list of allowed
 * origins. A lone "*" means any origin (a literal "*" in a list would match nothing).
 */
export const origins: ValueKind = {
  expect: 'true, false or a non-empty list of origins',
  fromText: (t) => {
    const word = t.trim().toLowerCase();
    if (word === 'true') return true;
    if (word === 'false') return false;
    const list = splitList(t);
    return list.length > 0 ? list : t;
  },
  check: (v) => {
    if (typeof v === 'boolean') return v;
    const list = typeof v === 'string' ? [v] : v;
    if (!isListOf(list, (o) => isCleanString(o) && !/\s/.test(o)) || list.length === 0) return undefined;
    return list.length === 1 && list[0] === '*' ? true : [...list];
  },
};

/** Secrets as a list; text is a comma list whose blanks are dropped. */
export const tokens: ValueKind = {
  expect: 'a list of non-empty tokens without surrounding spaces',
  fromText: splitList,
  check: (v) => (isListOf(v, isCleanString) ? [...v] : undefined),
};

/** Like `text`, but the empty string is valid and means "not set" (the default of optional keys). */
export function optionalText(expect: string): ValueKind {
  return {
    expect: `${expect} (empty for none)`,
    fromText: (t) => t.trim(),
    check: (v) => (v === '' || isCleanString(v) ? v : undefined),
  };
}

/** An http(s) URL, or empty for none. */
export const optionalUrl: ValueKind = {
  expect: 'an http:// or https:// URL (empty for none)',
  fromText: (t) => t.trim(),
  check: (v) => {
    if (v === '') return v;
    if (!isCleanString(v)) return undefined;
    try {
      const url = new URL(v);
      return url.protocol === 'http:' || url.protocol === 'https:' ? v : undefined;
    } catch {
      return undefined;
    }
  },
};

/** One NATS subject token that is also a valid stream and bucket name: letters, digits, - and _. */
export const subjectToken: ValueKind = {
  expect: 'letters, digits, - and _ (1–32 characters)',
  fromText: (t) => t.trim(),
  check: (v) => (typeof v === 'string' && /^[A-Za-z0-9_-]{1,32}$/.test(v) ? v : undefined),
};
