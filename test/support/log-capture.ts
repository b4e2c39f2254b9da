import { PassThrough } from 'node:stream';
import { createLogger } from '../../bin/logger';

/** A real winston logger of the service whose JSON lines the test reads back. */
export const captureLogs = (level: 'info' | 'warn' = 'info') => {
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
