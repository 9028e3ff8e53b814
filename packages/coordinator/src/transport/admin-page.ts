// The admin page: one HTML file with its CSS and script inline (assets/admin.html), read once.
// Its Content-Security-Policy allows exactly that inline script and style (by hash) and requests
// to this origin, so nothing a database holds can run in the page even if it were put in as HTML.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export type AdminPageView = 'dashboard' | 'login' | 'login-failed';

// A path from this module's own file, not `new URL(…, import.meta.url)`: bundlers and Vite's DOM
// test environments rewrite that pattern against a page's location (the React bindings' tests run
// a coordinator inside a jsdom environment).
const PAGE_URL = join(dirname(fileURLToPath(import.meta.url)), '../../assets/admin.html');

function hashOf(template: string, tag: 'script' | 'style'): string {
  const match = new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`).exec(template);
  if (!match) throw new Error(`admin.html has no inline <${tag}>`);
  return `'sha256-${createHash('sha256').update(match[1]!, 'utf8').digest('base64')}'`;
}

const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export class AdminPage {
  readonly csp: string;
  private readonly template: string;

  constructor(template: string = readFileSync(PAGE_URL, 'utf8')) {
    this.template = template;
    this.csp = [
      "default-src 'none'",
      `script-src ${hashOf(template, 'script')}`,
      `style-src ${hashOf(template, 'style')}`,
      "connect-src 'self'",
      "img-src 'self' data:",
      "form-action 'self'",
      "frame-ancestors 'none'",
      "base-uri 'none'",
    ].join('; ');
  }

  /** The page for `adminPath` (the URL of the page itself, e.g. /sync/admin). */
  render(adminPath: string, view: AdminPageView): string {
    return this.template.replaceAll('%ADMIN_PATH%', escapeHtml(adminPath)).replaceAll('%VIEW%', view);
  }
}
