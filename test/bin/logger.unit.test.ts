import { captureLogs } from '../support/log-capture';

describe('createLogger', () => {
  it('writes JSON lines with timestamp, level, message and fields', () => {
    const { logger, lines } = captureLogs();
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
    const { logger, lines } = captureLogs();
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
    const { logger, lines } = captureLogs('warn');
    logger.info('ignored');
    logger.warn('kept');
    expect(lines().map((line) => line['message'])).toEqual(['kept']);
  });
});
