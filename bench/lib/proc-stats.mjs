// What a process costs, read from /proc (Linux): CPU seconds, resident memory, peak resident memory.
// The server is measured from outside, so the figures include everything it does, GC and SQLite too.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';

let clockTicks;
function ticksPerSecond() {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/** User + system CPU seconds the process has used so far. */
export function cpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may hold spaces; fields after its closing ')' start at field 3.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  return (utime + stime) / ticksPerSecond();
}

function statusField(pid, field) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
  if (!match) throw new Error(`/proc/${pid}/status has no ${field}`);
  return Number(match[1]);
}

/** Current resident set, KB. */
export function rssKb(pid) {
  return statusField(pid, 'VmRSS');
}

/** Peak resident set since start or since the last resetPeak, KB. */
export function peakRssKb(pid) {
  return statusField(pid, 'VmHWM');
}

/** Resets VmHWM to the current RSS (Linux clear_refs "5"); false where the kernel refuses. */
export function resetPeak(pid) {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/** Open-file limits of this process (children inherit them). */
export function openFileLimit() {
  const limits = readFileSync('/proc/self/limits', 'utf8');
  const match = /^Max open files\s+(\d+|unlimited)\s+(\d+|unlimited)/m.exec(limits);
  const parse = (s) => (s === 'unlimited' ? Number.MAX_SAFE_INTEGER : Number(s));
  return match ? { soft: parse(match[1]), hard: parse(match[2]) } : { soft: 1024, hard: 1024 };
}

/**
 * Samples VmRSS every few ms: the growth above a baseline during one phase needs the current RSS
 * over time, which VmHWM (a peak since reset) cannot give. Stops itself after `maxSamples`.
 */
export class RssSampler {
  #pid;
  #timer;
  #max = 0;
  #samples = 0;

  constructor(pid, everyMs = 20, maxSamples = 100_000) {
    this.#pid = pid;
    this.#sample();
    this.#timer = setInterval(() => {
      if (++this.#samples >= maxSamples) this.stop();
      else this.#sample();
    }, everyMs);
  }

  #sample() {
    try {
      this.#max = Math.max(this.#max, rssKb(this.#pid));
    } catch {
      this.stop(); // the process is gone; keep what was seen
    }
  }

  /** Stops sampling (idempotent) and returns the highest RSS seen, KB. */
  stop() {
    if (this.#timer) {
      clearInterval(this.#timer);
      this.#timer = undefined;
      this.#sample();
    }
    return this.#max;
  }
}
