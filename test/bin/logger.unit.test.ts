import { PassThrough } from 'node:stream';
import { createLogger } from '../../bin/logger';

const capture = (level: 'info' | 'warn' = 'info') => {
  const stream = new PassThrough();
  const chunks: string[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk.toString('utf8')));
  const logger = createLogger(level, { stream });
  const lines = (): Record<string, unknown>[] =>
    chunks
      .join('')
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  return { logger, lines };
};

describe('createLogger', () => {
  it('writes JSON lines with timestamp, level, message and fields', () => {
    const { logger, lines } = capture();
    logger.info('http_request', { requestId: 'r-1', status: 201 });
    expect(lines()).toEqual([
      {
        level: 'info',
        message: 'http_request',
        requestId: 'r-1',
        status: 201,
        timestamp: expect.any(String),
      },
    ]);
  });

  it('redacts fields named like credentials, at any depth, keeping the rest', () => {
    const { logger, lines } = capture();
    logger.info('bootstrap', {
      apiKey: 'lsk_secret-1',
      authorization: 'Bearer lsk_secret-2',
      nested: {
        password: 'pw',
        clientSecret: 's',
        signature: 'sig',
        idempotencyKey: 'k',
        kept: 'visible',
      },
      list: [{ token: 't' }],
      clientId: 'admin',
    });
    const [line] = lines();
    expect(line).toMatchObject({
      apiKey: '[redacted]',
      authorization: '[redacted]',
      nested: {
        password: '[redacted]',
        clientSecret: '[redacted]',
        signature: '[redacted]',
        idempotencyKey: '[redacted]',
        kept: 'visible',
      },
      list: [{ token: '[redacted]' }],
      clientId: 'admin',
    });
    expect(JSON.stringify(line)).not.toMatch(/lsk_|"pw"|"sig"/);
  });

  it('drops entries below the level', () => {
    const { logger, lines } = capture('warn');
    logger.info('ignored');
    logger.warn('kept');
    expect(lines().map((line) => line['message'])).toEqual(['kept']);
  });
});
