// Who may scrape `<basePath>/metrics`. Metrics describe the whole server (and, with
// metrics.perDatabaseLabels, its tenants), so once clients must authenticate, so must a scraper:
// with auth.mode other than none the route needs metrics.token, and without one configured it is
// closed (403) rather than silently open. A configured token is required whatever the auth mode.
import type { CoordinatorConfig } from '../config/types.js';
import { TokenWhitelist } from '../service/index.js';

export interface MetricsRefusal {
  readonly status: 401 | 403;
  readonly code: string;
  readonly message: string;
}

export const METRICS_TOKEN_NOT_SET: MetricsRefusal = {
  status: 403,
  code: 'METRICS_TOKEN_NOT_SET',
  message:
    'Metrics are closed while auth.mode is not "none" and no metrics token is set: set metrics.token (SYNC_METRICS_TOKEN or --metrics-token) and scrape with "Authorization: Bearer <token>"',
};

export const METRICS_TOKEN_WRONG: MetricsRefusal = {
  status: 401,
  code: 'AUTH_FAILED',
  message: 'Metrics need "Authorization: Bearer <metrics.token>"',
};

/** Checks a scrape's bearer token; undefined means "serve it". */
export function metricsGate(config: CoordinatorConfig): (token: string | undefined) => MetricsRefusal | undefined {
  const expected = config.metrics.token;
  if (expected === '') return () => (config.auth.mode === 'none' ? undefined : METRICS_TOKEN_NOT_SET);
  // Compared as digests in constant time, like client tokens.
  const allowed = new TokenWhitelist([expected]);
  return (token) => (token !== undefined && allowed.has(token) ? undefined : METRICS_TOKEN_WRONG);
}
