// The admin page's data (transport-free); the HTTP routes are in transport/admin-routes.ts.
export { AdminView } from './admin-view.js';
export { AdminError, asksToOpen, parseDatabaseQuery, parseRowsQuery, DEFAULT_PAGE_SIZE } from './admin-query.js';
export type { DatabaseQuery, DatabaseSort, RowsQuery } from './admin-query.js';
export type * from './types.js';
