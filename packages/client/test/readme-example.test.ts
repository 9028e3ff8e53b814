// The README's example is this package's examples/two-replicas.ts, verbatim; this test runs it
// against a real coordinator, so the README cannot drift into fiction.
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { twoReplicas } from '../examples/two-replicas.js';
import { startCoordinator, tempDir, within } from './helpers.js';

describe('README example', () => {
  const dir = tempDir();
  afterEach(() => dir.remove());

  it('is the example file, and it syncs two replicas', async () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const example = readFileSync(new URL('../examples/two-replicas.ts', import.meta.url), 'utf8');
    expect(readme).toContain(example.trim());

    const coord = await startCoordinator({ dataDir: dir.path });
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    try {
      const rows = await within(twoReplicas(coord.url), 8000, 'the README example');
      expect(rows).toEqual([
        { id: 'bread', title: 'Bake bread', done: 0 },
        { id: 'milk', title: 'Buy oat milk', done: 1 },
      ]);
    } finally {
      log.mockRestore();
      await coord.stop();
    }
  });
});
