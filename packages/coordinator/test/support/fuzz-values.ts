// Hostile JSON for the fuzz tests: values of the wrong kind (huge numbers, almost-base64, deep
// nesting, long strings), JSON that JSON.stringify cannot write, and mutations of a valid message.
import { encodeHLC, encodeSiteId, type HLC, type SiteId, type SqlValue } from '@syncord/core';
import fc from 'fast-check';

/** Placeholders replaced in the text after JSON.stringify: JSON that JSON.stringify cannot write. */
const RAW_TOKENS: Readonly<Record<string, string>> = {
  '@@huge@@': '1e400',
  '@@-huge@@': '-1e999',
  '@@long-int@@': '123456789012345678901234567890123456789012345678901234567890',
  '@@deep-array@@': `${'['.repeat(50_000)}${']'.repeat(50_000)}`,
  '@@deep-object@@': `${'{"a":'.repeat(20_000)}1${'}'.repeat(20_000)}`,
};

export function render(json: unknown): string {
  let text = JSON.stringify(json) ?? 'null';
  for (const [token, raw] of Object.entries(RAW_TOKENS)) text = text.split(`"${token}"`).join(raw);
  return text;
}

export const siteArb: fc.Arbitrary<SiteId> = fc.uint8Array({ minLength: 16, maxLength: 16 });
export const hlcValueArb: fc.Arbitrary<HLC> = fc
  .record({ wall: fc.bigInt(0n, 2n ** 64n - 1n), counter: fc.nat(0xffff), siteId: siteArb, opSeq: fc.nat() })
  .map(({ wall, counter, siteId, opSeq }) => ({ wallTime: wall, counter, siteId, opSeq }));
export const hlcArb = hlcValueArb.map(encodeHLC);

/** Strings that are almost base64: wrong alphabet, padding, length, whitespace, non-ASCII. */
export const badBase64Arb = fc
  .tuple(
    fc.oneof(hlcArb, siteArb.map(encodeSiteId), fc.constant('AAAAAAAAAAAAAAAAAAAAAA'), fc.constant('3q2+7w==')),
    fc.nat(),
    fc.constantFrom('!', '=', ' ', '-', '_', '+', '/', '\n', 'é', '\u0000', '=='),
    fc.constantFrom('replace', 'insert', 'cut', 'double'),
  )
  .map(([text, at, char, how]) => {
    const i = at % (text.length + 1);
    if (how === 'replace') return text.slice(0, i) + char + text.slice(i + 1);
    if (how === 'insert') return text.slice(0, i) + char + text.slice(i);
    if (how === 'cut') return text.slice(0, i);
    return text + text;
  });

export const hugeNumberArb = fc.constantFrom<unknown>(
  1e308,
  -1e308,
  2 ** 53,
  2 ** 53 + 2,
  2 ** 64,
  -(2 ** 63),
  5e-324,
  -0,
  0.5,
  '@@huge@@',
  '@@-huge@@',
  '@@long-int@@',
);

/** Any value where a field was expected: wrong types, huge numbers, bad base64, deep nesting. */
export const weirdArb: fc.Arbitrary<unknown> = fc.oneof(
  { arbitrary: fc.jsonValue({ maxDepth: 3 }), weight: 4 },
  { arbitrary: hugeNumberArb, weight: 3 },
  { arbitrary: badBase64Arb, weight: 3 },
  { arbitrary: fc.string({ maxLength: 40 }), weight: 2 },
  { arbitrary: fc.constantFrom('@@deep-array@@', '@@deep-object@@'), weight: 1 },
  {
    arbitrary: fc.constantFrom<unknown>(
      { __bin: '!!!' },
      { __bin: 5 },
      { __bigint: '1e5' },
      { __bigint: '9'.repeat(5000) },
      { __bigint: '' },
      { 0: 300, 1: -1 },
      'x'.repeat(100_000),
      [],
      {},
    ),
    weight: 2,
  },
);

export const sqlValueArb: fc.Arbitrary<SqlValue> = fc.oneof(
  fc.integer(),
  fc.string({ maxLength: 20 }),
  fc.constant(null),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.bigInt(-(2n ** 80n), 2n ** 80n),
  fc.uint8Array({ maxLength: 8 }),
  fc.boolean(),
);

/** Every node of a JSON tree, as the path of keys leading to it. */
function paths(json: unknown, prefix: (string | number)[] = [], out: (string | number)[][] = []) {
  out.push(prefix);
  if (Array.isArray(json)) json.forEach((v, i) => paths(v, [...prefix, i], out));
  else if (typeof json === 'object' && json !== null) {
    for (const [k, v] of Object.entries(json)) paths(v, [...prefix, k], out);
  }
  return out;
}

export type Mutation = { at: number; op: 'replace' | 'delete' | 'corrupt' | 'duplicate'; value: unknown; cut: number };

/** Applies mutations to a deep copy: replace a node, delete it, corrupt a string, duplicate an element. */
export function mutate(json: Record<string, unknown>, mutations: readonly Mutation[]): unknown {
  const root = structuredClone(json) as Record<string, unknown>;
  for (const m of mutations) {
    const all = paths(root).filter((p) => p.length > 0 && p[0] !== 'type');
    const path = all[m.at % Math.max(all.length, 1)];
    if (!path) continue;
    let parent: Record<string | number, unknown> = root;
    for (const key of path.slice(0, -1)) parent = parent[key] as Record<string | number, unknown>;
    const key = path[path.length - 1]!;
    const current = parent[key];
    if (m.op === 'delete') {
      if (Array.isArray(parent)) parent.splice(key as number, 1);
      else delete parent[key];
    } else if (m.op === 'corrupt' && typeof current === 'string') {
      const i = m.cut % (current.length + 1);
      const insert = typeof m.value === 'string' ? m.value : (JSON.stringify(m.value) ?? '');
      parent[key] = `${current.slice(0, i)}${insert.slice(0, 3)}${current.slice(i + 1)}`;
    } else if (m.op === 'duplicate' && Array.isArray(parent)) {
      parent.splice(key as number, 0, structuredClone(current));
    } else {
      parent[key] = structuredClone(m.value); // a copy: fast-check hands out shared constants
    }
  }
  return root;
}

export const mutationArb: fc.Arbitrary<Mutation> = fc.record({
  at: fc.nat(),
  op: fc.constantFrom('replace', 'delete', 'corrupt', 'duplicate'),
  value: weirdArb,
  cut: fc.nat(),
});
