// `npm run example -- [syncord options]`: builds the todo app, then runs the coordinator with the
// build served at / beside /sync/ws, so http://127.0.0.1:3000/ is the app and its sync server.
// Every `syncord` option works (--port, --data-dir, --auth-tokens, …); the host defaults to
// 127.0.0.1 here, since a demo has no business listening on every interface.
import { fileURLToPath } from 'node:url';
import { runCli } from '@syncord/coordinator';
import { buildTodoApp } from './build.js';

const outDir = fileURLToPath(new URL('./dist/', import.meta.url));
const argv = process.argv.slice(2);
const wantsHelp = argv.some((a) => a === '-h' || a === '--help' || a === '-V' || a === '--version');
if (!wantsHelp) await buildTodoApp(outDir);
const code = await runCli(['--host', '127.0.0.1', ...argv], process.env, {
  staticDir: outDir,
  onListening: ({ port }) => console.log(`todo app: http://127.0.0.1:${port}/`),
});
process.exit(code);
