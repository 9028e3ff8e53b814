// Persistent browser storage (IndexedDB behind the memory replica) in headless Chromium: time to
// fill N rows, time to open them again after a reload (load + first full read), and the latency
// of one awaited write. Run with `npm run bench:browser` (Debian's chromium; no build needed: the
// page is bundled from the sources). Wall-clock is measured in the page; CPU seconds are
// utime+stime of every Chromium process (browser, renderer, storage) from /proc over each step
// (a process that exits during a step is left out of it).
import { readdirSync, readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { bundlePage, servePage } from '../packages/client/test/browser/page-server.ts';
import { chromiumPath, launchChromium } from '../packages/coordinator/test/support/chromium.ts';

const SIZES = process.argv.includes('--quick') ? [1000, 10_000] : [1000, 10_000, 50_000];
const WRITES = 200;
const TICKS = 100; // USER_HZ on Linux

/** utime+stime (s) per pid of the process whose command line holds `marker` and its descendants. */
function treeCpu(marker) {
  const procs = [];
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      procs.push({ pid: Number(pid), ppid: Number(f[1]), cpu: (Number(f[11]) + Number(f[12])) / TICKS, cmd });
    } catch {
      // exited while listing
    }
  }
  const root = procs.find((p) => p.cmd.includes(marker));
  if (!root) throw new Error('chromium process not found');
  const inTree = new Set([root.pid]);
  for (let grew = true; grew;) {
    grew = false;
    for (const p of procs) if (!inTree.has(p.pid) && inTree.has(p.ppid)) grew = inTree.add(p.pid) !== undefined;
  }
  return new Map(procs.filter((p) => inTree.has(p.pid)).map((p) => [p.pid, p.cpu]));
}

/** CPU seconds the tree used since `before`; a process that exited in between is left out. */
function cpuSince(before, marker) {
  let sum = 0;
  for (const [pid, cpu] of treeCpu(marker)) sum += cpu - (before.get(pid) ?? 0);
  return sum;
}

const executablePath = chromiumPath();
if (!executablePath) throw new Error('chromium is not installed (apt-get install -y chromium)');
const marker = `--syncord-bench=${randomUUID()}`;
const server = await servePage(await bundlePage(fileURLToPath(new URL('./browser-storage-page.ts', import.meta.url))));
const browser = await launchChromium(executablePath, [marker]);
try {
  const context = await browser.newContext();
  const run = async (fn, ...args) => {
    const page = await context.newPage();
    await page.goto(server.url);
    await page.waitForFunction(() => 'bench' in globalThis);
    const cpu0 = treeCpu(marker);
    const result = await page.evaluate(([f, a]) => globalThis.bench[f](...a), [fn, args]);
    const cpu = cpuSince(cpu0, marker);
    await page.close();
    return { result, cpu };
  };
  const ms = (n) => n.toFixed(1);
  console.log('| rows | fill: wall ms | fill: CPU s | open (load): wall ms | first list: wall ms | open+list: CPU s |');
  console.log('|---:|---:|---:|---:|---:|---:|');
  for (const n of SIZES) {
    const name = `bench-${n}-${Date.now()}`;
    const fill = await run('fill', name, n);
    const open = await run('open', name);
    if (open.result.rows !== n) throw new Error(`reopened ${open.result.rows} rows, wrote ${n}`);
    console.log(
      `| ${n.toLocaleString('en')} | ${ms(fill.result)} | ${fill.cpu.toFixed(2)} | ${ms(open.result.openMs)} | ${ms(open.result.firstListMs)} | ${open.cpu.toFixed(2)} |`,
    );
  }
  const w = await run('writes', `bench-writes-${Date.now()}`, WRITES);
  const sorted = [...w.result].sort((a, b) => a - b);
  const pct = (p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
  console.log(
    `\n${WRITES} one-row writes, each awaited until saved (IndexedDB durability 'strict'): ` +
      `p50 ${ms(pct(50))} ms, p95 ${ms(pct(95))} ms, max ${ms(sorted.at(-1))} ms; ` +
      `${((w.cpu / WRITES) * 1000).toFixed(2)} CPU ms per write (all Chromium processes)`,
  );
} finally {
  await browser.close();
  await server.close();
}
