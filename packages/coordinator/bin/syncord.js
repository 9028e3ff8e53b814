#!/usr/bin/env node
// The installed `syncord` command. It is a committed file, not dist/cli/main.js itself, because npm
// links a bin only when its target exists at install time, and in a fresh clone dist/ is built
// after the links are made (by the root `prepare` script).
try {
  await import('../dist/cli/main.js');
} catch (error) {
  if (error?.code !== 'ERR_MODULE_NOT_FOUND' || !String(error.message).includes('dist/cli/main.js')) throw error;
  console.error('syncord: the coordinator is not built yet; run `npm run build` in the repository first.');
  process.exit(1);
}
