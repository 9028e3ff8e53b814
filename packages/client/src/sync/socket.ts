// The WebSocket the client talks through: the global one when the platform has it (browsers,
// Node >= 22), otherwise the `ws` package, imported lazily so the browser entry carries no Node
// import. Only the part of the WHATWG WebSocket interface that both provide is used.

/**
 * What the client needs from a WebSocket; the browser's and `ws`'s both fit. The handlers are
 * only ever assigned (with WHATWG-shaped events), so they are typed loosely enough for both.
 */
export interface SocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: unknown;
  onmessage: unknown;
  onclose: unknown;
  onerror: unknown;
}

export type SocketFactory = (url: string) => SocketLike;
type SocketConstructor = new (url: string) => SocketLike;

export const SOCKET_OPEN = 1;

let wsConstructor: Promise<SocketConstructor> | undefined;

/** The platform's WebSocket, or `ws` loaded on first use. */
export async function defaultSocketFactory(): Promise<SocketFactory> {
  const global = (globalThis as { WebSocket?: SocketConstructor }).WebSocket;
  const Ctor = global ?? (await (wsConstructor ??= loadWs()));
  return (url) => new Ctor(url);
}

async function loadWs(): Promise<SocketConstructor> {
  const mod = await import('ws');
  return mod.WebSocket;
}

const decoder = new TextDecoder();

/** A frame's text. Servers send text frames; a binary one is decoded as UTF-8 rather than dropped. */
export function frameText(data: unknown): string {
  if (typeof data === 'string') return data;
  if (data instanceof ArrayBuffer) return decoder.decode(new Uint8Array(data));
  if (ArrayBuffer.isView(data)) return decoder.decode(data);
  if (Array.isArray(data)) return data.map((part) => frameText(part)).join('');
  throw new TypeError('Unsupported WebSocket frame payload');
}
