// What a client is told of a failure: a storage error's message can name server files, so only
// its code reaches the client (the operation logs the whole error).
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ProtocolError } from '@syncord/core';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { asProtocolError, clientMessage, operationError, storageErrorCode } from './errors.js';

function systemError(): Error {
  try {
    readFileSync(path.join(tmpdir(), 'syncord-no-such-dir', 'db.sqlite'));
  } catch (err) {
    return err as Error;
  }
  throw new Error('the read should have failed');
}

describe('storage errors told to clients', () => {
  it('a system error keeps its code and loses its path', () => {
    const err = systemError();
    expect(err.message).toContain(tmpdir());
    expect(storageErrorCode(err)).toBe('ENOENT');
    expect(clientMessage(err)).toBe('storage error (ENOENT); try again later');
    const wrapped = asProtocolError(err, 'GET_CHANGES_ERROR', 'Apply failed');
    expect(wrapped).toMatchObject({
      code: 'GET_CHANGES_ERROR',
      message: 'Apply failed: storage error (ENOENT); try again later',
    });
    expect(wrapped.cause).toBe(err);
  });

  it('other errors and protocol errors keep their messages', () => {
    expect(clientMessage(new Error('Invalid HLC'))).toBe('Invalid HLC');
    expect(storageErrorCode(Object.assign(new Error('x'), { code: 'ORIGIN_MISMATCH' }))).toBeUndefined();
    const refused = new ProtocolError('RESYNC_REQUIRED', 'take a snapshot');
    expect(asProtocolError(refused, 'GET_CHANGES_ERROR')).toBe(refused);
  });

  it('operationError logs the whole storage error with the connection id', () => {
    const lines: Record<string, unknown>[] = [];
    const log = pino({ level: 'error' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
    const err = systemError();
    const wrapped = operationError(log, { connectionId: 'c1', databaseId: 'db' }, err, 'SNAPSHOT_ERROR');
    expect(wrapped.message).not.toContain(tmpdir());
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ connectionId: 'c1', databaseId: 'db', msg: 'storage failure' });
    expect(JSON.stringify(lines[0])).toContain(tmpdir());
  });
});
