// Pulling a client's backlog. The real client pushes one page (its batch size) per local write or
// reconnect and nothing more (PROTOCOL.md §3.6), so rows written offline would wait for the next
// write. After acknowledging a page large enough to have a successor, the server asks for it with
// request_changes; the client answers with an apply_changes without requestId holding its facts
// above the page's max HLC not originated at this server, and only when there are any.
import { maxChangeSetHlc, type ChangeSet, type RequestChangesMessage } from '@syncord/core';
import { replicaOf, type Session } from './session.js';

/** Data changes in an apply (schema migrations not counted), as the client's batch bound counts them. */
export function dataChangeCount(changeSets: readonly ChangeSet[]): number {
  let changes = 0;
  for (const cs of changeSets) changes += cs.changes.length;
  return changes;
}

/**
 * The request_changes to send after acknowledging `changeSets` on `session`, or undefined when the
 * page holds fewer than `minChanges` data changes (0 turns the pull off) or came over HTTP.
 */
export function backlogRequest(
  session: Session,
  changeSets: readonly ChangeSet[],
  minChanges: number,
): RequestChangesMessage | undefined {
  if (minChanges <= 0 || session.transport !== 'websocket') return undefined;
  if (dataChangeCount(changeSets) < minChanges) return undefined;
  const since = maxChangeSetHlc(changeSets);
  if (since === undefined) return undefined;
  return { type: 'request_changes', siteId: replicaOf(session).siteId, sinceHLC: since };
}
