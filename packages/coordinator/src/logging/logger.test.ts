import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, resolveLogFormat } from './logger.js';

function capture(): { stream: Writable; lines: () => Record<string, unknown>[] } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString('utf8'));
      done();
    },
  });
  const lines = (): Record<string, unknown>[] =>
    chunks
      .join('')
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  return { stream, lines };
}

describe('createLogger', () => {
  it('writes one JSON object per line with level name, ISO time and child context', () => {
    const out = capture();
    const logger = createLogger('info', out.stream);
    logger.child({ connectionId: 'c-7' }).info({ databaseId: 'acme:notes' }, 'handshake accepted');
    const [line] = out.lines();
    expect(line).toMatchObject({
      level: 'info',
      service: 'syncord',
      connectionId: 'c-7',
      databaseId: 'acme:notes',
      msg: 'handshake accepted',
    });
    expect(new Date(String(line?.time)).toISOString()).toBe(line?.time);
  });

  it('drops lines below its level', () => {
    const out = capture();
    const logger = createLogger('warn', out.stream);
    logger.info('quiet');
    logger.debug('quieter');
    logger.error('loud');
    expect(out.lines().map((l) => l.msg)).toEqual(['loud']);
    const silent = capture();
    createLogger('silent', silent.stream).fatal('nothing');
    expect(silent.lines()).toEqual([]);
  });

  it('never writes tokens or authorization headers', () => {
    const out = capture();
    const logger = createLogger('info', out.stream);
    logger.info({ req: { headers: { authorization: 'Bearer s3cret', host: 'x' } } }, 'request');
    logger.info({ handshake: { token: 's3cret', databaseId: 'd' } }, 'handshake');
    logger.info({ config: { auth: { mode: 'token-whitelist', tokens: ['s3cret'] } } }, 'configuration');
    const text = JSON.stringify(out.lines());
    expect(text).not.toContain('s3cret');
    expect(out.lines()[2]).toMatchObject({ config: { auth: { mode: 'token-whitelist', tokens: '[redacted]' } } });
  });

  it('writes readable lines in the pretty format, secrets still redacted', () => {
    const chunks: string[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        chunks.push(chunk.toString('utf8'));
        done();
      },
    });
    const logger = createLogger('info', stream, 'pretty');
    logger.info({ databaseId: 'acme:notes', token: 's3cret' }, 'handshake accepted');
    const text = chunks.join('');
    expect(() => JSON.parse(text)).toThrow();
    expect(text).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO.*: handshake accepted/);
    expect(text).toContain('acme:notes');
    expect(text).not.toContain('s3cret');
  });

  it('auto means pretty on a terminal and JSON on a pipe', () => {
    expect(resolveLogFormat('auto', true)).toBe('pretty');
    expect(resolveLogFormat('auto', false)).toBe('json');
    expect(resolveLogFormat('json', true)).toBe('json');
    expect(resolveLogFormat('pretty', false)).toBe('pretty');
  });
});
