import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (p: string) => fileURLToPath(new URL(p, import.meta.url));

export default defineConfig({
  resolve: {
    // Tests run against the sources, so a package need not be rebuilt for another's tests.
    alias: [
      { find: /^@syncord\/core\/sqlite$/, replacement: src('./packages/core/src/sqlite/index.ts') },
      { find: /^@syncord\/core$/, replacement: src('./packages/core/src/index.ts') },
      { find: /^@syncord\/coordinator$/, replacement: src('./packages/coordinator/src/index.ts') },
      { find: /^@syncord\/client\/sqlite$/, replacement: src('./packages/client/src/sqlite.ts') },
      { find: /^@syncord\/client\/browser$/, replacement: src('./packages/client/src/browser.ts') },
      { find: /^@syncord\/client$/, replacement: src('./packages/client/src/index.ts') },
      { find: /^@syncord\/react$/, replacement: src('./packages/react/src/index.ts') },
    ],
  },
  test: {
    include: ['packages/*/src/**/*.test.ts', 'packages/*/test/**/*.test.{ts,tsx}', 'examples/*/test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
  },
});
