import { CONFIG_FILE_OPTION, CONFIG_OPTIONS, flagsOf, formatDefault } from './options.js';

/**
 * The README's configuration table, rendered from the option table so the two cannot drift
 * (a test requires README.md to contain exactly this).
 */
export function configTableMarkdown(): string {
  const rows = CONFIG_OPTIONS.map(
    (o) => `| \`${o.key}\` | \`${o.env}\` | \`${flagsOf(o)}\` | \`${formatDefault(o)}\` | ${o.description} |`,
  );
  const file = CONFIG_FILE_OPTION;
  rows.push(`| (config file) | | \`${flagsOf(file)}\` | \`${file.defaultPath}\` | ${file.description} |`);
  return ['| key | environment | flag | default | meaning |', '|---|---|---|---|---|', ...rows].join('\n');
}
