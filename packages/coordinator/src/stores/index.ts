export { StoreManager, StoreManagerClosedError, StoreLimitError } from './store-manager.js';
export { checkDataDir, DataDirError } from './data-dir.js';
export type { StoreHandle, StoreManagerOptions, OpenReplica } from './store-manager.js';
export { checkDatabaseId, InvalidDatabaseIdError, DEFAULT_DATABASE_ID_PATTERN } from './database-id.js';
export type { DatabaseIdRules } from './database-id.js';
export {
  storageFilePath,
  defaultStorageName,
  escapeDatabaseId,
  unescapeDatabaseId,
  StoragePathError,
  removeDatabaseFiles,
  STORE_FILE_EXTENSION,
} from './storage-path.js';
export type { StoreContext, StoreManagerHooks } from './types.js';
