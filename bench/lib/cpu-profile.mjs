// Reads a V8 .cpuprofile (node --cpu-prof) and lists where the time went: self time per function
// and per package, so a profile can be read in a terminal or pasted into a report.
import { readFileSync } from 'node:fs';

function where(url) {
  if (!url) return '';
  const clean = url.replace(/^file:\/\//, '');
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(clean);
  if (pkg) return pkg[1];
  const ours = /packages\/([^/]+)\/(?:dist|src)\/(.*)$/.exec(clean);
  if (ours) return `${ours[1]}/${ours[2]}`;
  return clean.replace(/^.*\/(?=[^/]+$)/, '');
}

function group(url) {
  if (!url) return '(native / vm)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1];
  const ours = /packages\/([^/]+)\/(?:dist|src)\/([^/]+)/.exec(url);
  if (ours) return `@syncord/${ours[1]} ${ours[2]}`;
  if (url.startsWith('node:')) return 'node internals';
  return url;
}

/** A text table of the top `limit` functions by self time, then self time per package. */
export function summarizeProfile(file, limit = 20) {
  const profile = JSON.parse(readFileSync(file, 'utf8'));
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map();
  profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));

  const fns = new Map();
  const groups = new Map();
  let busy = 0;
  let idle = 0;
  for (const [id, us] of selfUs) {
    const frame = byId.get(id)?.callFrame;
    if (!frame) continue;
    if (frame.functionName === '(idle)') {
      idle += us;
      continue;
    }
    busy += us;
    const name = `${frame.functionName || '(anonymous)'} ${where(frame.url)}${frame.url ? `:${frame.lineNumber + 1}` : ''}`;
    fns.set(name, (fns.get(name) ?? 0) + us);
    const g = group(frame.url);
    groups.set(g, (groups.get(g) ?? 0) + us);
  }
  const pct = (us) => `${((100 * us) / Math.max(1, busy)).toFixed(1).padStart(5)}%`;
  const ms = (us) => `${(us / 1000).toFixed(0).padStart(7)} ms`;
  const top = (map, n) => [...map].sort((a, b) => b[1] - a[1]).slice(0, n);
  return [
    `busy ${(busy / 1e6).toFixed(2)} s, idle ${(idle / 1e6).toFixed(2)} s; self time of the busy part:`,
    ...top(fns, limit).map(([name, us]) => `${pct(us)} ${ms(us)}  ${name}`),
    'by package:',
    ...top(groups, 12).map(([name, us]) => `${pct(us)} ${ms(us)}  ${name}`),
  ].join('\n');
}
