// What one entry of a database's subject in the cluster log holds: an apply as the receiving node
// passed it (after its hooks), or a coverage record a node wrote while serving a catch-up. JSON
// with the protocol's own change-set encoding, so an entry reads like the apply it came from.
import {
  decodeChangeSet,
  decodeSiteId,
  encodeChangeSet,
  encodeSiteId,
  fromBase64,
  toBase64,
  type ChangeSet,
  type CoverageNote,
  type SiteId,
} from '@syncord/core';

export interface ApplyEntry {
  readonly kind: 'apply';
  /** The receiving node's id for it: that node answers the client once it merged the entry. */
  readonly nonce: string;
  readonly siteId: SiteId;
  readonly checkOrigins: boolean;
  readonly changeSets: readonly ChangeSet[];
}

export interface CoverageEntry {
  readonly kind: 'coverage';
  readonly note: CoverageNote;
}

export type LogEntryBody = ApplyEntry | CoverageEntry;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodeEntry(entry: LogEntryBody): Uint8Array {
  const json =
    entry.kind === 'apply'
      ? {
          k: 'a',
          n: entry.nonce,
          s: encodeSiteId(entry.siteId),
          o: entry.checkOrigins,
          c: entry.changeSets.map(encodeChangeSet),
        }
      : {
          k: 'c',
          r: entry.note.rule,
          s: toBase64(entry.note.site),
          h: toBase64(entry.note.hlc),
          v: entry.note.covered,
        };
  return encoder.encode(JSON.stringify(json));
}

/** Throws on anything this build did not write: the caller logs and skips it. */
export function decodeEntry(data: Uint8Array): LogEntryBody {
  const json = JSON.parse(decoder.decode(data)) as Record<string, unknown>;
  if (json['k'] === 'a' && Array.isArray(json['c']) && typeof json['n'] === 'string') {
    return {
      kind: 'apply',
      nonce: json['n'],
      siteId: decodeSiteId(json['s']),
      checkOrigins: json['o'] === true,
      changeSets: json['c'].map((cs: unknown) => decodeChangeSet(cs)),
    };
  }
  if (json['k'] === 'c' && (json['r'] === 'raise' || json['r'] === 'reply') && typeof json['v'] === 'number') {
    return {
      kind: 'coverage',
      note: {
        rule: json['r'],
        site: fromBase64(String(json['s']), 'coverage site'),
        hlc: fromBase64(String(json['h']), 'coverage hlc'),
        covered: json['v'],
      },
    };
  }
  throw new Error('not a cluster log entry of this version');
}
