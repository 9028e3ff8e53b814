// Prints what the browser entry costs an app: `@syncord/client/browser` (and, for comparison, the
// main entry) bundled for the browser with esbuild, minified, then gzipped. It bundles the built
// package through its `exports`, as an app's bundler would, so run `npm run build` first.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const pkgDir = fileURLToPath(new URL('..', import.meta.url));

if (!existsSync(new URL('../dist/browser.js', import.meta.url))) {
  console.error('dist/browser.js is missing: run `npm run build` at the repository root first');
  process.exit(1);
}

async function measure(specifier) {
  const out = await build({
    stdin: { contents: `export * from '${specifier}';`, resolveDir: pkgDir, loader: 'js' },
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    logLevel: 'silent',
  });
  const bytes = out.outputFiles[0].contents;
  return { min: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length };
}

const kB = (n) => `${(n / 1024).toFixed(1)} kB`;
for (const specifier of ['@syncord/client/browser', '@syncord/client']) {
  const { min, gzip } = await measure(specifier);
  console.log(`${specifier.padEnd(24)} ${kB(min).padStart(9)} minified  ${kB(gzip).padStart(8)} min+gzip`);
}
