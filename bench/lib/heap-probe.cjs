// Preloaded (`node --expose-gc --require heap-probe.cjs`) into a bench server whose heap a scenario
// weighs, the coordinator and the bare relay alike: on SIGUSR2 it runs a full collection and prints
// one line with the heap left after it, so a figure counts what the load keeps, not its garbage.
'use strict';

const PREFIX = 'bench-heap-probe ';

process.on('SIGUSR2', () => {
  if (typeof globalThis.gc === 'function') globalThis.gc();
  const { heapUsed, heapTotal, external, rss } = process.memoryUsage();
  process.stderr.write(`${PREFIX}${JSON.stringify({ heapUsed, heapTotal, external, rss })}\n`);
});
