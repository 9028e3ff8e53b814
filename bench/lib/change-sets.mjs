// The load's data: rows inserted by one writer site, built as typed change sets and encoded by the
// core codec (the same one the client uses), so the bench sends exactly what a real client sends:
// one transaction per change set, one `column` change per column, the pk column included.
import { HybridClock, encodeChangeSet, encodeSiteId, newSiteId, transactionIdOf } from '@syncord/core';

export const TABLE = 'items';

function columnName(index) {
  return index === 0 ? 'id' : index === 1 ? 'title' : index === 2 ? 'score' : `c${index}`;
}

function cellValue(column, id) {
  if (column === 0) return id;
  if (column === 1) return `item ${id} title`;
  if (column === 2) return id * 0.5;
  return `value ${column} of ${id}`;
}

/** One writing site with its own clock. */
export class Writer {
  constructor() {
    this.siteId = newSiteId();
    this.siteIdText = encodeSiteId(this.siteId);
    this.clock = new HybridClock(this.siteId);
  }

  /** One transaction inserting rows firstId … firstId+rows-1, `columns` cells each (wire JSON shape). */
  insertRows(firstId, rows, columns) {
    const base = this.clock.tick();
    const changes = [];
    for (let id = firstId; id < firstId + rows; id++) {
      for (let c = 0; c < columns; c++) {
        changes.push({
          type: 'column',
          schema: 'main',
          table: TABLE,
          pk: [id],
          column: columnName(c),
          value: cellValue(c, id),
          hlc: { ...base, opSeq: changes.length },
        });
      }
    }
    const hlc = changes.length > 0 ? changes[changes.length - 1].hlc : base;
    return encodeChangeSet({
      siteId: this.siteId,
      transactionId: transactionIdOf(hlc),
      hlc,
      changes,
      schemaMigrations: [],
    });
  }
}

/** The `apply_changes` message text for `changeSets`. */
export function applyMessage(changeSets, requestId) {
  return JSON.stringify({ type: 'apply_changes', requestId, changes: changeSets });
}

/**
 * `rows` rows in transactions of `rowsPerTxn`, as ready-to-send messages (encoded before the clock
 * starts, so the load generator's own encoding is not timed against the server).
 */
export function insertMessages(writer, { rows, rowsPerTxn, columns, firstId = 1, requestPrefix = 'apply-' }) {
  const messages = [];
  for (let first = firstId, n = 0; first < firstId + rows; first += rowsPerTxn, n++) {
    const count = Math.min(rowsPerTxn, firstId + rows - first);
    const changeSet = writer.insertRows(first, count, columns);
    messages.push({
      requestId: `${requestPrefix}${n + 1}`,
      transactionId: changeSet.transactionId,
      hlc: changeSet.hlc,
      cells: changeSet.changes.length,
      text: applyMessage([changeSet], `${requestPrefix}${n + 1}`),
    });
  }
  return messages;
}
