// What the React tests share about their jsdom page.
import { vi } from 'vitest';

/** Text of every element with this data-testid, in document order. */
export function shown(page: ParentNode, testId: string): string[] {
  return Array.from(page.querySelectorAll(`[data-testid="${testId}"]`), (e) => e.textContent ?? '');
}

/**
 * jsdom's WebSocket (undici's, dispatching Node events into jsdom's Event class) fails in this
 * environment. Without a global one the SDK loads the `ws` package, as it does in Node.
 */
export function withoutDomWebSocket(): void {
  vi.stubGlobal('WebSocket', undefined);
}
