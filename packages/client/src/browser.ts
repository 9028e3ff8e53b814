// @syncord/client/browser: the main entry plus openBrowserDatabase, a replica that persists in
// IndexedDB and is shared by the tabs of one origin. Browser only (IndexedDB, Web Locks,
// BroadcastChannel); the main entry stays usable everywhere.
export * from './index.js';
export { BrowserDatabase, openBrowserDatabase, type BrowserDatabaseOptions } from './browser/open-browser-database.js';
