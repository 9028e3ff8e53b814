/** A malformed wire value. Decoders throw it; nothing malformed reaches the engine. */
export class WireError extends Error {
  override readonly name = 'WireError';
}
