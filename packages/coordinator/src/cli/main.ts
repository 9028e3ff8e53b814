#!/usr/bin/env node
// The `syncord` bin: everything testable lives in runCli; this file only binds it to the process.
import { runCli } from './run-cli.js';

const code = await runCli(process.argv.slice(2), process.env);
// Exit explicitly: after a graceful stop nothing is left to wait for, and a stray handle must not
// keep a stopped server's process alive under a supervisor.
process.exit(code);
