// Wire-message fixtures shared by the client- and server-message tests.
import {
  decodeChangeSet,
  encodeServerMessage,
  makeHLC,
  newSiteId,
  transactionIdOf,
  type ChangeSet,
} from '@syncord/core';

export const SITE = 'bxwqnkt9TBqOPwARIjNEVQ';
export const SINCE = 'AAABkADHoNIAAMPS4fChskw9no96a1xNPi8AAAAC';
// A ChangeSet carrying a blob, a bigint and a before-image: plain JSON.stringify would throw on it.
export const SET: ChangeSet = (() => {
  const siteId = newSiteId();
  const at = (opSeq: number) => makeHLC(1718000001234n, 0, siteId, opSeq);
  return {
    siteId,
    transactionId: transactionIdOf(at(0)),
    hlc: at(1),
    changes: [
      {
        type: 'column',
        schema: 'main',
        table: 't',
        pk: [9n],
        column: 'b',
        value: Uint8Array.from([1, 2, 3]),
        hlc: at(0),
      },
      { type: 'delete', schema: 'main', table: 't', pk: [1], hlc: at(1), priorRow: [1, 2n ** 64n] },
    ],
    schemaMigrations: [],
  };
})();
/** SET as a receiver decodes it from a `changes` message. */
export const decodedSet = (): ChangeSet =>
  decodeChangeSet(JSON.parse(encodeServerMessage({ type: 'changes', changeSets: [SET] })).changeSets[0]);

/** The PROTOCOL.md §5.3 checkpoint example. */
export const CHECKPOINT = {
  snapshotId: '0f8e2d4c-…-uuid',
  siteId: SITE,
  hlc: 'AAABkADHr4gAAAoLDA0OD0AQgJCgsMDQ4PAAAAAA',
  lastTableIndex: 1,
  lastEntryIndex: 4000,
  completedTables: ['main.notes'],
  entriesProcessed: 4000,
  createdAt: 1718000100000,
};
