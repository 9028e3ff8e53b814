// Renders the suite's results as Markdown, ready to paste into BENCHMARKS.md: the machine, the
// command, one row per figure beside its target, the reference coordinator and this machine's
// limit, then the limits themselves and every note the runs made.
import os from 'node:os';
import { LIMIT_LABELS } from '../limits/index.mjs';
import { formatNumber } from './stats.mjs';

const OPS = { '>=': '≥', '<=': '≤', '<': '<', '>': '>', '=': '=' };

/**
 * A target is an absolute `value`, or `factor` × a limit measured in the same run (e.g. within
 * 10 % of the bare relay: `{ op: '<=', limit: 'relayP99Ms', factor: 1.1 }`); undefined when that
 * limit was not measured.
 */
function targetValue(target, limits) {
  if (target.limit === undefined) return target.value;
  const limit = limits[target.limit];
  return Number.isFinite(limit) ? limit * target.factor : undefined;
}

function targetText(target, unit, limits, digits) {
  if (target.limit === undefined) return `${OPS[target.op]} ${formatNumber(target.value, digits)} ${unit}`;
  const of = `${target.factor} × ${LIMIT_LABELS[target.limit].short}`;
  const value = targetValue(target, limits);
  return `${OPS[target.op]} ${of}${value === undefined ? ' (not measured)' : ` = ${formatNumber(value)} ${unit}`}`;
}

function meets(value, target) {
  if (!Number.isFinite(value) || target.value === undefined) return false;
  if (target.op === '>=') return value >= target.value;
  if (target.op === '<=') return value <= target.value;
  if (target.op === '<') return value < target.value;
  if (target.op === '=') return value === target.value;
  return value > target.value;
}

function limitText(keys = [], limits) {
  return keys
    .filter((k) => limits[k] !== undefined)
    .map((k) => `${LIMIT_LABELS[k].short} ${formatNumber(limits[k])} ${LIMIT_LABELS[k].unit}`)
    .join('; ');
}

// Wall time, server CPU and load-generator CPU side by side show which side bounded a figure.
const COLUMNS = [
  ['scenario', '---'],
  ['size', '---'],
  ['figure', '---:'],
  ['target', '---'],
  ['reference', '---'],
  ['limit on this machine', '---'],
  ['wall s', '---:'],
  ['server CPU s', '---:'],
  ['load gen CPU s', '---:'],
  ['server peak RSS MB', '---:'],
];

const cell = (text) => String(text ?? '').replaceAll('|', '\\|');
const line = (cells) => `| ${cells.map(cell).join(' | ')} |`;

/** `results`: [{ scenario, result }] in run order; `limits`: { values, errors }. */
export function renderReport({ command, options, results, limits, startedAt, elapsedS }) {
  const cpus = os.cpus();
  const out = [];
  out.push(
    `Command: \`${command}\` (${options.quick ? 'quick sizes' : 'full sizes'}, median of ${options.sizes.runs} run(s))`,
  );
  out.push('');
  out.push(
    `Machine: ${cpus.length} cores (${cpus[0]?.model ?? 'unknown CPU'}), ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM, ` +
      `Node ${process.version}, ${os.type()} ${os.release()}; ${startedAt.toISOString()}, suite took ${elapsedS.toFixed(0)} s.`,
  );
  out.push('');
  out.push(line(COLUMNS.map(([name]) => name)), line(COLUMNS.map(([, align]) => align)));
  for (const { scenario, result } of results) {
    const size = scenario.describe(options.sizes);
    if (scenario.name === 's3-restore') {
      out.push(
        line([
          'S3 restore',
          size,
          'separate: `node bench/s3-durability.mjs` (S3 section)',
          'time and cells/s recorded',
          ...COLUMNS.slice(4).map(() => ''),
        ]),
      );
      continue;
    }
    scenario.rows.forEach((row, i) => {
      const first = i === 0;
      const value = result.metrics[row.key];
      // `digits`: decimals for figures that live below 1 (CPU seconds per 10,000 cells, say).
      let figure =
        result.error && !Number.isFinite(value) ? 'failed' : `${formatNumber(value, row.digits)} ${row.unit}`;
      const target = row.target && { ...row.target, value: targetValue(row.target, limits.values) };
      if (target?.value !== undefined && Number.isFinite(value)) figure += meets(value, target) ? ' ✓' : ' ✗';
      out.push(
        line([
          row.label,
          first ? size : '',
          figure,
          row.target ? targetText(row.target, row.unit, limits.values, row.digits) : '',
          row.reference !== undefined ? `≈ ${formatNumber(row.reference)}` : '',
          limitText(row.limits, limits.values),
          first ? formatNumber(result.wallS) : '',
          first ? formatNumber(result.cpuS) : '',
          first ? formatNumber(result.loadCpuS) : '',
          first ? formatNumber(result.peakRssMb, 1) : '',
        ]),
      );
    });
  }

  const limitKeys = Object.keys(LIMIT_LABELS).filter((k) => limits.values[k] !== undefined);
  if (limitKeys.length > 0) {
    out.push('', line(['physical limit (same machine, same load generator)', 'figure']), line(['---', '---:']));
    for (const k of limitKeys)
      out.push(line([LIMIT_LABELS[k].label, `${formatNumber(limits.values[k])} ${LIMIT_LABELS[k].unit}`]));
  }

  const notes = [
    ...results.flatMap(({ scenario, result }) => [
      ...(result.error ? [`${scenario.name} failed after ${result.runs} run(s): ${result.error}`] : []),
      ...result.notes,
    ]),
    ...limits.errors.map((e) => `limit failed: ${e}`),
  ];
  if (notes.length > 0) out.push('', 'Notes:', ...notes.map((n) => `- ${n}`));
  return out.join('\n');
}
