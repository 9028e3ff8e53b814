// Builds the todo app and its service worker. The @syncord packages resolve to their TypeScript
// sources, so the app always builds against the code next to it, with no `npm run build` first.
import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig, type Plugin } from 'vite';

const here = (p: string): string => fileURLToPath(new URL(p, import.meta.url));
const MANIFEST_PLACEHOLDER = /([`"'])__SYNCORD_SW_MANIFEST__\1/;

/** Writes the list of built files into sw.js, the files its install step caches. */
function serviceWorkerManifest(): Plugin {
  return {
    name: 'syncord-sw-manifest',
    apply: 'build',
    generateBundle(_options, bundle) {
      const worker = bundle['sw.js'];
      if (worker?.type !== 'chunk') throw new Error('the build has no sw.js chunk');
      const shell = [
        '/',
        ...Object.keys(bundle)
          .filter((file) => file !== 'sw.js' && file !== 'index.html' && !file.endsWith('.map'))
          .sort()
          .map((file) => `/${file}`),
      ];
      if (!MANIFEST_PLACEHOLDER.test(worker.code)) throw new Error('sw.js lost its manifest placeholder');
      worker.code = worker.code.replace(MANIFEST_PLACEHOLDER, JSON.stringify(JSON.stringify(shell)));
    },
  };
}

export default defineConfig({
  root: here('.'),
  plugins: [react(), serviceWorkerManifest()],
  resolve: {
    alias: [
      { find: /^@syncord\/core$/, replacement: here('../../packages/core/src/index.ts') },
      { find: /^@syncord\/client$/, replacement: here('../../packages/client/src/index.ts') },
      { find: /^@syncord\/client\/browser$/, replacement: here('../../packages/client/src/browser.ts') },
      { find: /^@syncord\/react$/, replacement: here('../../packages/react/src/index.ts') },
    ],
  },
  build: {
    outDir: here('dist'),
    emptyOutDir: true,
    rollupOptions: {
      input: { main: here('index.html'), sw: here('src/sw.ts') },
      // The worker must sit at the root to control the whole origin, under a name that never changes.
      output: { entryFileNames: (chunk) => (chunk.name === 'sw' ? 'sw.js' : 'assets/[name]-[hash].js') },
    },
  },
});
