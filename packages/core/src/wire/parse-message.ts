// The first step for every incoming text frame on either side: JSON, an object, a string `type`.
import { describeValue } from './fields.js';
import { WireError } from './wire-error.js';

export interface ParsedMessage {
  readonly type: string;
  readonly raw: Record<string, unknown>;
}

/**
 * Parses one message frame. No depth guard is needed here: V8's JSON.parse is not recursive (a
 * million nested arrays parse fine). What overflows is re-serialising such a value, so the
 * per-field decoders bound the depth of the only free-form JSON they keep (SqlValue,
 * MAX_JSON_DEPTH); unknown extra fields are dropped, never re-sent. Size is the transport's
 * limit (max payload) because it must hold before the text is even buffered.
 */
export function parseMessage(text: string): ParsedMessage {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new WireError(`Invalid JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new WireError(`A message must be a JSON object, got ${describeValue(json)}`);
  }
  const raw = json as Record<string, unknown>;
  const type = raw['type'];
  if (typeof type !== 'string') throw new WireError(`A message needs a string "type", got ${describeValue(type)}`);
  return { type, raw };
}
