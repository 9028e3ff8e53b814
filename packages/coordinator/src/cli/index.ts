export { runCli } from './run-cli.js';
export type { CliContext, SignalSource } from './run-cli.js';
export { buildProgram, parseCliArgs, USAGE_ERROR } from './program.js';
export type { CliOutput, ParsedArgs } from './program.js';
