// A stream of replies on one socket (a catch-up's `changes` pages, a snapshot's chunks): each item
// is read only once the previous one is on its way, and one that would take the socket's buffer
// past the high-water mark waits until it is written out, so a slow reader holds the stream back
// instead of filling server memory. A closed socket ends it quietly.
import type { SocketSender } from './socket-sender.js';

/** Sends `message(item)` (the encoded frame) for each item; resolves true once every item was sent, false when the socket closed first. */
export async function sendPaced<T>(
  items: AsyncIterable<T>,
  sender: SocketSender,
  message: (item: T) => string,
): Promise<boolean> {
  for await (const item of items) {
    // Breaking out returns the stream, which then reads nothing more.
    if (!sender.isOpen) return false;
    await sender.sendPaced(message(item));
  }
  return true;
}
