// Readiness of the data directory: a real write on every check, because a disk can turn read-only
// or fill up while the server runs. The reason returned names no path (readyz is often public);
// the log gets the path and the error, once per change of state.
import type { Logger } from 'pino';
import { checkDataDir, DataDirError } from '../stores/index.js';

export class DataDirHealth {
  private problem: string | undefined;

  constructor(
    private readonly dataDir: string,
    private readonly log: Logger,
  ) {}

  /** Undefined when the directory takes a write, else why not. */
  check(): string | undefined {
    let problem: string | undefined;
    try {
      checkDataDir(this.dataDir);
    } catch (err) {
      const code = err instanceof DataDirError ? err.code : undefined;
      problem = `data directory not writable${code ? ` (${code})` : ''}`;
      if (problem !== this.problem) this.log.error({ err }, 'data directory not writable: not ready');
    }
    if (!problem && this.problem) this.log.info({ dataDir: this.dataDir }, 'data directory writable again: ready');
    this.problem = problem;
    return problem;
  }
}
