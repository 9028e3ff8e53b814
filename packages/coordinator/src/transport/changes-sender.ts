// A catch-up on one socket: one `changes` message per page (PROTOCOL.md §3.3; `more: true` on all
// but the last, which says `more: false` so a client that knows the field stops asking). Each page is read only once the previous one is on its way, and a page that
// would take the socket's buffer past the high-water mark waits until it is written out, so a slow
// reader holds the stream back instead of filling server memory. A closed socket ends it quietly.
import { encodeServerMessage, type ChangesPage } from '@syncord/core';
import type { SocketSender } from './socket-sender.js';

export async function sendChangesStream(pages: AsyncIterable<ChangesPage>, sender: SocketSender): Promise<void> {
  for await (const { changeSets, more } of pages) {
    // Breaking out returns the stream, which then reads nothing more.
    if (!sender.isOpen) return;
    await sender.sendPaced(encodeServerMessage({ type: 'changes', changeSets, more }));
  }
}
