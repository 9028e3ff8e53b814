// The README's example is this package's examples/replicas.ts, verbatim; this test runs it, so the
// README cannot drift from the API.
import { readFileSync } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';
import { replicas } from '../examples/replicas.js';

describe('README example', () => {
  it('is the example file, and its replicas converge', async () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const example = readFileSync(new URL('../examples/replicas.ts', import.meta.url), 'utf8');
    expect(readme).toContain(example.trim());

    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    try {
      const [title, ...rows] = await replicas();
      expect(['Alice', 'Bob']).toContain(title);
      expect(rows).toEqual([undefined, undefined, undefined, undefined]);
      expect(log.mock.calls[0]?.[0]).toEqual({ applied: 3, skipped: 0, conflicts: 0, transactions: 1 });
      expect(log.mock.calls[1]?.[0]).toBe(true);
      expect(log.mock.calls[2]?.[1]).toBe(1);
    } finally {
      log.mockRestore();
    }
  });
});
