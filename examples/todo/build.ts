// Builds the todo app (and its service worker) into a directory: what `npm run example` serves,
// and what the end-to-end test builds into a temporary directory.
// As a script: node --import tsx examples/todo/build.ts <outDir>
import { fileURLToPath } from 'node:url';
import { build } from 'vite';

const configFile = fileURLToPath(new URL('./vite.config.ts', import.meta.url));

export async function buildTodoApp(outDir: string): Promise<void> {
  await build({ configFile, logLevel: 'warn', build: { outDir, emptyOutDir: true } });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const outDir = process.argv[2];
  if (!outDir) throw new Error('usage: build.ts <outDir>');
  await buildTodoApp(outDir);
}
